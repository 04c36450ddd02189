"""The trace as one self-contained web page: a space-time diagram on a canvas and a step inspector.

One row per step (the tape before it, each cell coloured by its symbol, the head's cell by the
state), then a last row for the final tape. Long traces are downsampled to at most ``max_rows``
evenly spaced steps; every row kept is an exact step, with its prompt, completion and writes
(distinct prompts are embedded once). The page needs no network: its data, script and style are
inline. The script marks ``<body data-rendered="N rows">`` once drawn and writes any error into
``#errors``, so a headless browser can check it.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

from llmvm.trace import Record, Tape, TraceReader, tail
from llmvm.traceview import replayed

MAX_ROWS = 2000
MARGIN = 2  # blank cells drawn either side of the part of the tape the run touched
_CODES = string.ascii_uppercase + string.ascii_lowercase  # one letter per symbol; run lengths are digits
_PAGE = Path(__file__).with_name("tracehtml.html")


@dataclass(frozen=True)
class HtmlStats:
    """What went into the page."""

    steps: int  # steps in the trace
    rows: int  # steps drawn (the final-tape row not counted)
    columns: int  # tape cells across


def write(path: str | Path, out: str | Path, *, max_rows: int = MAX_ROWS) -> HtmlStats:
    """Write the page for the trace at ``path`` to ``out``."""
    data = collect(path, max_rows=max_rows)
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    title = f"llmvm trace: {data['summary'].get('machine', '?')}"
    fill = {"title": _escape(title), "data": blob}
    page = re.sub(r"\{\{(title|data)\}\}", lambda m: fill[m[1]], _PAGE.read_text(encoding="utf-8"))
    Path(out).write_text(page, encoding="utf-8")
    return HtmlStats(data["total"], len(data["steps"]) - 1, data["width"])


def collect(path: str | Path, *, max_rows: int = MAX_ROWS) -> dict[str, Any]:
    """The page's data: summary, alphabet, states, the kept rows' tapes and steps, their prompts."""
    footer, _ = tail(path)
    reader = TraceReader(path)
    header = reader.header
    stride = max(1, -(-_step_count(path, footer) // max(1, max_rows)))  # ceil: at most max_rows rows
    symbols: list[str] = list(header["symbols"])
    codes = {s: _code(k) for k, s in enumerate(symbols)}
    prompts: dict[str, str] = {}
    rows: list[list[Any]] = []
    steps: list[Record | None] = []
    cells = [int(k) for k in header["tape"]]
    lo, hi = min([header["head"], *cells]), max([header["head"], *cells])
    last: Record | None = None
    tape = Tape(header)  # replayed() goes on to apply the last step's writes: the final tape
    for step, tape in replayed(reader, prompts=prompts):
        lo, hi = min(lo, step["head"]), max(hi, step["head"])
        if (step["n"] - 1) % stride == 0:
            rows.append([*_snapshot(tape, lo, hi, codes, symbols), step["head"], step["state"]])
            steps.append({k: v for k, v in step.items() if k != "type"})
        last = step
    lo, hi = min(lo, tape.head), max(hi, tape.head)
    end_state = (reader.footer or {}).get("state") or _next_state(last, header)
    rows.append([*_snapshot(tape, lo, hi, codes, symbols), tape.head, end_state])
    steps.append(None)
    used = {s["prompt"] for s in steps if s is not None}
    states = list(dict.fromkeys([*header["states"], *(r[3] for r in rows)]))
    return {
        "summary": _summary(header, reader.footer, reader.truncated),
        "symbols": symbols, "codes": [_code(k) for k in range(len(symbols))], "states": states,
        "lo": lo - MARGIN, "width": hi - lo + 1 + 2 * MARGIN, "rows": rows, "steps": steps,
        "prompts": {h: t for h, t in prompts.items() if h in used},
        "total": last["n"] if last else 0, "stride": stride,
    }


def _step_count(path: str | Path, footer: Record | None) -> int:
    """The number of steps: the footer's, or (a run cut short) the number of lines, a bound."""
    if footer is not None:
        return int(footer["steps"])
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


def _code(k: int) -> str:
    """Symbol number k as one non-digit character."""
    return _CODES[k] if k < len(_CODES) else chr(0x100 + k)


def _snapshot(tape: Tape, lo: int, hi: int, codes: dict[str, str], symbols: list[str]) -> tuple[int, str]:
    """(first non-blank cell, run-length code of the cells from there to the last non-blank one)."""
    get, blank = tape.cells.get, tape.blank
    cells = [get(p, blank) for p in range(lo, hi + 1)]
    marks = [i for i, symbol in enumerate(cells) if symbol != blank]
    if not marks:
        return lo, ""
    runs = []
    for symbol, group in groupby(cells[marks[0]:marks[-1] + 1]):
        if symbol not in codes:  # a symbol the header did not list: give it the next code
            codes[symbol] = _code(len(symbols))
            symbols.append(symbol)
        count = sum(1 for _ in group)
        runs.append(codes[symbol] + (str(count) if count > 1 else ""))
    return lo + marks[0], "".join(runs)


def _next_state(last: Record | None, header: Record) -> str:
    """The state after the last step, from its ``op`` write (for a trace with no footer)."""
    if last is None:
        return str(header["state"])
    ops = [v for w, v in last["writes"] if w == "op"]
    return str(ops[-1]) if ops else str(last["state"])


def _summary(header: Record, footer: Record | None, truncated: bool) -> dict[str, Any]:
    keep = ("program", "machine", "digest", "dialect", "backend", "is_llm", "model", "settings", "started")
    out = {k: header.get(k) for k in keep}
    out["ended"] = footer or {"status": "truncated" if truncated else "unfinished (no footer)"}
    return out


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
