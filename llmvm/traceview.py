"""The terminal trace viewer: ``llmvm trace show`` (summary, step table, one step in full) and ``trace diff``.

Everything streams: a trace is read record by record, the tape is replayed from the header's initial
tape and each step's writes, and reading stops as soon as the output is complete. The functions here
yield lines of text; the command line prints them.
"""

from __future__ import annotations

from itertools import zip_longest
from pathlib import Path
from typing import Iterable, Iterator

from llmvm.trace import Record, Tape, TraceReader, find_prompt, keyframe_before, tail

COMPARED = ("state", "head", "read", "completion", "writes")  # what makes two steps the same


# ------------------------------------------------------------------------------------ rendering


def summary(path: str | Path, header: Record) -> Iterator[str]:
    """The run in a few lines: program, backend, start, and how it ended (from the file's tail)."""
    footer, cut = tail(path)
    yield f"trace    {path} ({header['format']} v{header['version']}, started {header.get('started', '?')})"
    yield f"program  {header.get('machine', '?')} ({header.get('program', '?')}), digest {str(header.get('digest', ''))[:12]}"
    yield f"backend  {header.get('backend', '?')}, dialect {header.get('dialect', '?')}"
    settings = {k: v for k, v in (header.get("settings") or {}).items() if k not in ("backend", "is_llm")}
    if header.get("is_llm") and settings:
        yield "settings " + ", ".join(f"{k}={v}" for k, v in settings.items())
    start = Tape(header)
    resumed = f" (resumed after cycle {header['resumed'].get('cycle')})" if "resumed" in header else ""
    yield f"start    state {header['state']}, head {start.head}: {start.window(start.head, 8)}{resumed}"
    if footer is None:
        yield "ended    no footer: the run did not finish" + (" (last line cut off: truncated)" if cut else "")
    else:
        yield (f"ended    {footer['status']} after {footer['steps']:,} steps: {footer.get('calls', 0):,} calls, "
               f"{footer.get('cache_hits', 0):,} cache hits, {footer.get('wall', 0):.3f} s")
        if footer.get("error"):
            yield f"error    {footer['error']}"


def writes_text(step: Record) -> str:
    """A step's writes, compactly: ``→B 3:=1 i=4``."""
    parts = []
    for where, value in step["writes"]:
        parts.append(f"→{value}" if where == "op" else f"i={value}" if where == "i" else f"{where}:={value}")
    return " ".join(parts)


def cpu_text(step: Record) -> str:
    """Whether the step cost a backend call, and what it cost."""
    if step["cached"]:
        return "cache"
    latency = step.get("latency") or 0.0
    text = f"call {latency * 1e3:.1f} ms" if latency >= 1e-3 else f"call {latency * 1e6:.0f} µs"
    if "tokens_in" in step or "tokens_out" in step:
        text += f" {step.get('tokens_in', '?')}→{step.get('tokens_out', '?')} tok"
    return text


def row(step: Record, tape: Tape, radius: int) -> str:
    """One line of the step table; ``tape`` is the tape before the step."""
    return (f"{step['n']:>8} {step['state']:<6} {step['head']:>6} {step['read']:<4} "
            f"{tape.window(step['head'], radius)}   {writes_text(step):<24} {cpu_text(step)}")


def table_header(radius: int) -> str:
    """The step table's column titles."""
    return f"{'step':>8} {'state':<6} {'head':>6} {'read':<4} {'tape (head in [ ])':<{4 * radius + 3}}   {'writes':<24} cpu"


# ------------------------------------------------------------------------------------ show


def replayed(records: Iterable[Record], tape: Tape | None = None,
             prompts: dict[str, str] | None = None) -> Iterator[tuple[Record, Tape]]:
    """Every step with the tape as it was before it (one Tape, updated after each); fills ``prompts``."""
    for record in records:
        kind = record["type"]
        if kind == "step" and tape is not None:
            yield record, tape
            tape.apply(record)
        elif kind == "header":
            tape = Tape(record)
        elif kind == "tape" and tape is not None:
            tape.restore(record)
        elif kind == "prompt" and prompts is not None:
            prompts[record["hash"]] = record["text"]


def from_step(reader: TraceReader, n: int, prompts: dict[str, str] | None = None) -> Iterator[tuple[Record, Tape]]:
    """The steps from ``n`` on, replayed; the file is entered at the last tape record before ``n``."""
    tape = Tape(reader.header)
    mark = keyframe_before(reader.path, n) if n > 1 else None
    records = reader.records(mark)
    if mark is not None:
        tape.restore(mark.record)
    for step, tape in replayed(records, tape, prompts):
        if step["n"] >= n:
            yield step, tape


def show(path: str | Path, *, start: int = 1, state: str | None = None, calls_only: bool = False,
         limit: int = 20, radius: int = 8) -> Iterator[str]:
    """The summary and the step table from step ``start``, filtered, at most ``limit`` rows (0: all)."""
    reader = TraceReader(path)
    yield from summary(path, reader.header)
    yield ""
    yield table_header(radius)
    shown = 0
    for step, tape in from_step(reader, start):
        if (state is not None and step["state"] != state) or (calls_only and step["cached"]):
            continue
        if limit and shown == limit:
            yield f"… more steps follow (go on with --step {step['n']})"
            return
        yield row(step, tape, radius)
        shown += 1
    if not shown:
        yield "(no step matches)"
    if reader.truncated:
        yield "(the last line was cut off: a truncated trace, read up to there)"


def full(path: str | Path, n: int, *, radius: int = 12) -> Iterator[str]:
    """Step ``n`` in full: where the machine was, the prompt, the raw completion, the writes."""
    reader = TraceReader(path)
    prompts: dict[str, str] = {}
    for step, tape in from_step(reader, n, prompts):
        if step["n"] == n:
            prompt = prompts.get(step["prompt"]) or find_prompt(path, step["prompt"])
            yield from _full_step(step, tape, prompt, radius)
            return
    yield f"no step {n} in {path}" + (" (truncated trace)" if reader.truncated else "")


def _full_step(step: Record, tape: Tape, prompt: str | None, radius: int) -> Iterator[str]:
    yield f"step     {step['n']}: state {step['state']}, head {step['head']}, read {step['read']!r}, {cpu_text(step)}"
    yield f"before   {tape.window(step['head'], radius)}"
    text = prompt if prompt is not None else "(not in the trace)"
    yield f"prompt   {step['prompt']} ({len(prompt or '')} chars):"
    yield from ("  | " + line for line in text.split("\n"))
    yield f"answer   {step['completion']!r}"
    yield "writes   " + "; ".join(f"{w} := {v!r}" for w, v in step["writes"])
    tape.apply(step)
    yield f"after    {tape.window(tape.head, radius)}"


# ------------------------------------------------------------------------------------ diff


def diff(a: str | Path, b: str | Path, *, radius: int = 8) -> tuple[bool, list[str]]:
    """(same, report): the first step where two traces differ, both sides shown; or that they agree."""
    ra, rb = TraceReader(a), TraceReader(b)
    ha, hb = ra.header, rb.header
    lines = [f"a  {a}: {ha.get('machine', '?')}, {ha.get('backend', '?')}",
             f"b  {b}: {hb.get('machine', '?')}, {hb.get('backend', '?')}"]
    if ha.get("digest") != hb.get("digest"):
        lines.append("   (different programs or inputs: the digests differ)")
    steps = 0
    for left, right in zip_longest(replayed(ra), replayed(rb)):
        if left is None or right is None:
            (ended, name), (going, other) = ((ra, "a"), (right, "b")) if left is None else ((rb, "b"), (left, "a"))
            lines.append(f"{name} ends after {steps:,} steps ({_ending(ended)}); {other} goes on:")
            lines.append(f"{other}  {row(going[0], going[1], radius)}")
            return False, lines
        fields = [k for k in COMPARED if left[0][k] != right[0][k]]
        if fields:
            lines.append(f"first difference at step {left[0]['n']:,}: {', '.join(fields)}")
            lines.append("   " + table_header(radius).lstrip())
            for name, (step, tape) in (("a", left), ("b", right)):
                lines.append(f"{name}  {row(step, tape, radius)}")
                lines.append(f"{name}  completion {step['completion']!r}")
            return False, lines
        steps += 1
    if _ending(ra) != _ending(rb):
        lines.append(f"the {steps:,} steps agree, but a ended {_ending(ra)} and b {_ending(rb)}")
        return False, lines
    lines.append(f"identical: {steps:,} steps, {_ending(ra)}")
    return True, lines


def _ending(reader: TraceReader) -> str:
    """How a fully read trace ended."""
    if reader.footer is not None:
        return str(reader.footer["status"])
    return "truncated" if reader.truncated else "unfinished (no footer)"
