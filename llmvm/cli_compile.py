"""``llmvm compile``: a Turing machine or bi-tag system -> a bi-tag file or a U15,2 tape file."""

from __future__ import annotations

from pathlib import Path

import click

from llmvm import bitag, tapes, u15


@click.command("compile")
@click.argument("source", metavar="PROGRAM")
@click.option("--to", "target", type=click.Choice(["bitag", "u15_2"]), default="u15_2", show_default=True,
              help="bitag: the bi-tag system that simulates PROGRAM; u15_2: the tape U15,2 runs it from.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, metavar="FILE")
@click.option("--bitag-steps", default=10_000_000, show_default=True, metavar="N",
              help="Run the bi-tag system at most N steps to find its result for the header.")
@click.option("--measure", "u15_steps", default=0, metavar="N", type=int,
              help="Also run U15,2 on the tape (accelerated reference, at most N steps) to record its step count.")
def compile_cmd(source: str, target: str, output: str, bitag_steps: int, u15_steps: int) -> None:
    """Compile PROGRAM (a Turing machine, or a bi-tag system file) to run on U15,2.

    The written file starts with a header saying what it encodes, its size and the expected result;
    run a tape with: llmvm run programs/u15_2.yaml --input FILE
    """
    system, encodes = tapes.read_source(source)
    expect = tapes.expectations(system, bitag_steps=bitag_steps, u15_steps=u15_steps)
    if target == "bitag":
        header = (f"bi-tag system compiled by llmvm from {source} ({encodes['kind']} {encodes['name']!r})\n"
                  f"{len(system.A)} A-symbols, {len(system.E)} E-symbols; halts after {expect['bi-tag steps']:,} steps"
                  + (f"\nresult: {expect['result']}" if "result" in expect else ""))
        text = bitag.dump(system.with_expect(expect), header)
        summary = header
    else:
        tf = tapes.TapeFile(system, u15.encode(system), encodes, expect)
        text, summary = tapes.dump(tf), tf.summary()
    Path(output).write_text(text, encoding="utf-8")
    click.echo(summary)
    click.echo(f"wrote {output} ({len(text):,} bytes)")
