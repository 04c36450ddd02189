"""The ``llmvm trace`` commands: ``show`` (terminal viewer), ``html`` (one self-contained page), ``diff``."""

from __future__ import annotations

import sys
from itertools import chain
from pathlib import Path

import click

TRACE = click.Path(exists=True, dir_okay=False)


@click.group("trace")
def trace() -> None:
    """Look at traces written by `llmvm run --trace FILE`."""


@trace.command("show")
@click.argument("path", type=TRACE)
@click.option("--step", "start", default=1, show_default=True, metavar="N", help="Start the table at step N.")
@click.option("--state", help="Only steps in this state.")
@click.option("--calls-only", is_flag=True, help="Only steps that made a real backend call (no cache hit).")
@click.option("--full", type=int, metavar="N", help="Show step N in full: prompt, raw completion, writes.")
@click.option("--limit", default=20, show_default=True, help="At most this many table rows (0: all).")
@click.option("--radius", default=8, show_default=True, help="Tape cells shown either side of the head.")
def show_cmd(path: str, start: int, state: str | None, calls_only: bool, full: int | None, limit: int,
             radius: int) -> None:
    """Summarise a trace and print its steps, with the tape around the head."""
    from llmvm import traceview
    from llmvm.trace import TraceReader

    if full is not None:
        lines = chain(traceview.summary(path, TraceReader(path).header), [""], traceview.full(path, full))
    else:
        lines = traceview.show(path, start=start, state=state, calls_only=calls_only, limit=limit, radius=radius)
    for line in lines:
        click.echo(line)


@trace.command("html")
@click.argument("path", type=TRACE)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="The page to write [default: PATH with .html].")
@click.option("--rows", default=2000, show_default=True, help="At most this many steps in the diagram (evenly spaced).")
def html_cmd(path: str, output: str | None, rows: int) -> None:
    """Write one self-contained HTML page: a space-time diagram and a step inspector."""
    from llmvm import tracehtml

    out = Path(output or Path(path).with_suffix(".html"))
    stats = tracehtml.write(path, out, max_rows=rows)
    click.echo(f"wrote {out}: {stats.rows:,} of {stats.steps:,} steps drawn, "
               f"{stats.columns:,} cells wide, {out.stat().st_size / 1024:,.0f} KB")


@trace.command("diff")
@click.argument("a", type=TRACE)
@click.argument("b", type=TRACE)
@click.option("--radius", default=8, show_default=True, help="Tape cells shown either side of the head.")
def diff_cmd(a: str, b: str, radius: int) -> None:
    """Name the first step where two traces differ; exit 0 if they agree, 1 if not."""
    from llmvm import traceview

    same, lines = traceview.diff(a, b, radius=radius)
    for line in lines:
        click.echo(line)
    sys.exit(0 if same else 1)

