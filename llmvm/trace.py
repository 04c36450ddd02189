"""Traces: every cycle of a run as JSON Lines — the writer (a run observer) and a streaming reader.

Format ``llmvm-trace`` version 1 (README: Trace format), one JSON object per line:

* ``header`` — program, digest, dialect, backend, settings, start time, initial tape/head/state;
* ``prompt`` — ``{"hash", "text"}``, once, just before the first step that sends that prompt;
* ``step``   — ``n``, ``state``, ``head``, ``read``, ``prompt`` (hash), ``completion``, ``writes``,
  ``latency``, ``tokens_in``/``tokens_out`` (when reported), ``cached``;
* ``tape``   — the tape and head after step ``n``, every few thousand steps: a reader bisects the
  file for the last one before the step it wants and replays from there;
* ``footer`` — how the run ended: ``status``, ``steps``, ``calls``, ``cache_hits``, ``wall``.

Every record is flushed as it is written, so a killed run leaves a readable file; the reader treats
an incomplete last line as the end and says so (``truncated``). Nothing is loaded whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Iterator

from llmvm.backends import Backend, label
from llmvm.checkpoint import Resume
from llmvm.compile import Image
from llmvm.errors import TraceError
from llmvm.memory import CELL, HALT
from llmvm.program import Configuration
from llmvm.run import RunResult, run
from llmvm.vm import Step

FORMAT, VERSION = "llmvm-trace", 1
HASH_CHARS = 16
KEYFRAME = 4096  # steps between tape records, at least: where a reader can start replaying
Record = dict[str, Any]
_SECRET = re.compile(r"api_?key|secret|password|passwd|auth|bearer|cookie|header", re.IGNORECASE)
_TAIL = 1 << 16  # bytes read from the end of a file to find its footer


def prompt_hash(text: str) -> str:
    """The prompt's id in a trace: the first 16 hex digits of its sha256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_CHARS]


def redact(settings: dict[str, Any]) -> dict[str, Any]:
    """A backend's settings without anything that looks like a secret (keys, auth headers)."""
    return {k: redact(v) if isinstance(v, dict) else v for k, v in settings.items() if not _SECRET.search(k)}


# ------------------------------------------------------------------------------------ writing


class TraceWriter:
    """Writes a run's trace as it happens; call it with every Step (it is a ``run()`` observer)."""

    def __init__(self, path: str | Path, image: Image, cpu: Backend, *, program: str = "",
                 start: Resume | None = None):
        self.path = Path(path)
        self._state_of = image.state_of
        machine = image.machine
        self._blank = machine.blank
        # a resumed run's trace starts where the run stands: its steps are numbered from cycle + 1
        begin = image.decode(start.memory) if start else Configuration(machine.start, machine.head, machine.tape())
        self._tape: dict[int, str] = dict(begin.tape)
        self._head = begin.head
        self._hashes: dict[str, str] = {}  # prompt text -> hash, for prompts already written
        self._since = 0  # steps since the last tape record
        self._file: IO[str] = open(self.path, "w", encoding="utf-8", buffering=1)  # line-buffered: flushed per record
        inner = getattr(cpu, "inner", cpu)
        settings = redact(inner.describe())
        self._emit({
            "type": "header", "format": FORMAT, "version": VERSION,
            "program": program or machine.source, "machine": machine.name, "digest": machine.digest(),
            "dialect": image.dialect.name, "backend": label(inner), "is_llm": bool(inner.is_llm),
            "model": settings.get("model"), "settings": settings,
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "blank": machine.blank, "symbols": list(machine.symbols), "states": list(machine.states),
            "tape": self._cells(), "head": begin.head, "state": begin.state,
            **({"resumed": {"cycle": start.cycle}} if start else {}),
        })

    def __enter__(self) -> "TraceWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __call__(self, step: Step) -> None:
        """Record one cycle (and its prompt, the first time it is sent)."""
        digest = self._hashes.get(step.prompt)
        if digest is None:
            digest = self._hashes[step.prompt] = prompt_hash(step.prompt)
            self._emit({"type": "prompt", "hash": digest, "text": step.prompt})
        c = step.completion
        record: Record = {
            "type": "step", "n": step.n, "state": self._state_of.get(step.instruction, "?"),
            "head": self._head, "read": self._tape.get(self._head, self._blank), "prompt": digest,
            "completion": c.text, "latency": round(c.latency, 6), "cached": c.cached,
        }
        if c.tokens_in is not None:
            record["tokens_in"] = c.tokens_in
        if c.tokens_out is not None:
            record["tokens_out"] = c.tokens_out
        record["writes"] = self._writes(step)
        self._emit(record)
        self._since += 1
        if self._since >= max(KEYFRAME, len(self._tape)):  # amortised: at most one cell per step
            self._since = 0
            self._emit({"type": "tape", "n": step.n, "head": self._head, "tape": self._cells()})

    def _cells(self) -> dict[str, str]:
        """The tape's non-blank cells, as a record stores them."""
        return {str(p): s for p, s in sorted(self._tape.items()) if s != self._blank}

    def _writes(self, step: Step) -> list[list[Any]]:
        """The step's writes as [label, value], ``op`` as a state name; keeps the replayed tape."""
        out: list[list[Any]] = []
        for where, value in step.writes:
            if where == "op":
                value = HALT if value == HALT else self._state_of.get(str(value), "?")
            elif where == "i":
                self._head = int(value)
            elif CELL.fullmatch(where):
                self._tape[int(where)] = str(value)
            out.append([where, value])
        return out

    def finish(self, result: RunResult) -> None:
        """Write the footer: how the run ended."""
        self._emit({
            "type": "footer", "status": result.status, "steps": result.cycles, "calls": result.calls,
            "cache_hits": result.cache_hits, "wall": round(result.seconds, 6), "checked": result.checked,
            "state": result.config.state, "head": result.config.head, "error": result.error,
        })

    def close(self) -> None:
        self._file.close()

    def _emit(self, record: Record) -> None:
        self._file.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")


def traced_run(path: str | Path, image: Image, cpu: Backend, *, program: str = "", **options: Any) -> RunResult:
    """``run()`` with a trace written to ``path``, footer included (from ``start`` if resuming)."""
    with TraceWriter(path, image, cpu, program=program, start=options.get("start")) as writer:
        result = run(image, cpu, observers=(writer, *options.pop("observers", ())), **options)
        writer.finish(result)
    return result


# ------------------------------------------------------------------------------------ reading

_NUMBER = (int, float)
# per record type: (field, allowed types, required) — what every reader of a trace may rely on
_FIELDS: dict[str, tuple[tuple[str, tuple[type, ...], bool], ...]] = {
    "header": (("format", (str,), True), ("version", (int,), True), ("blank", (str,), True),
               ("symbols", (list,), True), ("states", (list,), True), ("tape", (dict,), True),
               ("head", (int,), True), ("state", (str,), True), ("program", (str,), False),
               ("machine", (str,), False), ("digest", (str,), False), ("dialect", (str,), False),
               ("backend", (str,), False), ("is_llm", (bool,), False), ("settings", (dict,), False),
               ("started", (str,), False), ("resumed", (dict,), False)),
    "prompt": (("hash", (str,), True), ("text", (str,), True)),
    "tape": (("n", (int,), True), ("head", (int,), True), ("tape", (dict,), True)),
    "step": (("n", (int,), True), ("state", (str,), True), ("head", (int,), True), ("read", (str,), True),
             ("prompt", (str,), True), ("completion", (str,), True), ("writes", (list,), True),
             ("cached", (bool,), True), ("latency", _NUMBER, False), ("tokens_in", (int,), False),
             ("tokens_out", (int,), False)),
    "footer": (("status", (str,), True), ("steps", (int,), True), ("calls", (int,), False),
               ("cache_hits", (int,), False), ("wall", _NUMBER, False), ("error", (str,), False),
               ("state", (str, type(None)), False), ("head", (int,), False)),
}
_ABSENT = object()
_GOOD_SHAPES: set[tuple[Any, ...]] = set()  # (type, keys, value types) known to pass _check_fields


class _Bad(Exception):
    """A line that is not a valid record; the reader adds the file and line number."""


class TraceReader:
    """A trace, streamed record by record: iterate it (again and again); nothing is held whole.

    After an iteration ``truncated`` says whether the last line was incomplete (a killed run) and
    ``footer`` holds the footer, if there was one.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.truncated = False
        self.footer: Record | None = None
        if not self.path.is_file():
            raise TraceError(f"{self.path}: no such trace file")

    def __iter__(self) -> Iterator[Record]:
        return self.records()

    def records(self, start: "Mark | None" = None) -> Iterator[Record]:
        """The records from the start, or from a mark (see ``keyframe_before``)."""
        self.truncated, self.footer = False, None
        offset, first = (start.offset, start.line) if start else (0, 1)
        records = first - 1
        with open(self.path, "rb") as f:
            f.seek(offset)
            for line, raw in enumerate(f, first):
                try:
                    record = _record(raw, line, self.footer is not None)
                except _Bad as e:
                    if raw.endswith(b"\n"):
                        raise TraceError(f"{self.path}:{line}: {e}") from None
                    self.truncated = True  # the last line, cut off mid-write: the end of the trace
                    break
                records = line
                if record["type"] == "footer":
                    self.footer = record
                yield record
        if not records:
            raise TraceError(f"{self.path}: no header: empty, or cut off before its first line ended")

    @property
    def header(self) -> Record:
        """The first record."""
        return next(iter(self))  # an empty file raises TraceError


def _record(raw: bytes, line: int, ended: bool) -> Record:
    """One line as a record, checked; raises _Bad saying what is wrong."""
    try:
        record = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as e:
        raise _Bad(f"not a JSON line ({str(e)[:80]})") from None
    kind = record.get("type") if isinstance(record, dict) else None
    if not isinstance(kind, str) or kind not in _FIELDS:
        raise _Bad(f"not a trace record (needs a \"type\": one of {', '.join(_FIELDS)})")
    if (line == 1) != (kind == "header"):
        raise _Bad("the first line must be the header" if line == 1 else "a second header")
    if ended:
        raise _Bad("a record after the footer")
    shape = (kind, tuple(record), tuple(map(type, record.values())))
    if shape not in _GOOD_SHAPES:  # the field check depends on nothing else: run it once per shape
        _check_fields(kind, record)
        if len(_GOOD_SHAPES) < 4096:
            _GOOD_SHAPES.add(shape)
    if kind == "step":
        _check_writes(record)
    elif kind == "header":
        _check_header(record)
    if kind in ("header", "tape") and not all(CELL.fullmatch(k) and type(v) is str for k, v in record["tape"].items()):
        raise _Bad(f"{kind} record: the tape must map cell numbers to symbols")
    return record


def _check_fields(kind: str, record: Record) -> None:
    for name, kinds, required in _FIELDS[kind]:
        value = record.get(name, _ABSENT)
        if value is _ABSENT and not required:
            continue
        if type(value) not in kinds:
            raise _Bad(f"{kind} record: {name!r} missing or not a {kinds[0].__name__}")


def _check_header(record: Record) -> None:
    if record["format"] != FORMAT or record["version"] != VERSION:
        raise _Bad(f"format {record['format']!r} version {record['version']!r}; "
                   f"this llmvm reads {FORMAT!r} version {VERSION}")


def _check_writes(record: Record) -> None:
    for w in record["writes"]:
        if type(w) is not list or len(w) != 2 or type(w[0]) is not str:
            ok = False
        elif w[0] == "i":
            ok = type(w[1]) is int
        else:
            ok = type(w[1]) is str and (w[0] == "op" or CELL.fullmatch(w[0]) is not None)
        if not ok:
            raise _Bad(f"step {record['n']}: bad write {str(w)[:60]} (want [cell or \"op\", text] or [\"i\", int])")


def tail(path: str | Path) -> tuple[Record | None, bool]:
    """(the footer, or None; whether the file ends mid-line) — from the file's end, without reading it all."""
    path = Path(path)
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - _TAIL))
        chunk = f.read()
    if not chunk:
        return None, False
    cut = not chunk.endswith(b"\n")
    last = chunk.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    try:
        record = _record(last, 2, False)
    except _Bad:
        return None, cut
    footer = record if record["type"] == "footer" else None
    return footer, cut and footer is None


# ------------------------------------------------------------------------------------ seeking


@dataclass(frozen=True)
class Mark:
    """A tape record to read on from: its byte offset and line number, and the record."""

    offset: int
    line: int
    record: Record


def keyframe_before(path: str | Path, n: int) -> Mark | None:
    """The last tape record written before step ``n``, found by bisecting the file; None if none is."""
    best: tuple[int, Record] | None = None
    with open(path, "rb") as f:
        lo, hi = 0, f.seek(0, os.SEEK_END)
        while lo < hi:
            mid = (lo + hi) // 2
            found = _next_keyframe(f, mid)
            if found is None or found[1]["n"] >= n:
                hi = mid
            else:
                best, lo = found, found[0] + 1
        if best is None:
            return None
        f.seek(0)
        line = 1 + sum(chunk.count(b"\n") for chunk in _chunks(f, best[0]))
    return Mark(best[0], line, best[1])


def _next_keyframe(f: IO[bytes], pos: int) -> tuple[int, Record] | None:
    """(offset, record) of the first tape record whose line starts at ``pos`` or later."""
    f.seek(max(pos - 1, 0))
    if pos > 0:
        f.readline()  # to the start of the next line (at pos itself if a line ends just before it)
    while raw := f.readline():
        if raw.startswith(b'{"type":"tape"') and raw.endswith(b"\n"):
            offset = f.tell() - len(raw)
            try:
                return offset, _record(raw, 2, False)
            except _Bad as e:
                raise TraceError(f"{f.name}: byte {offset}: {e}") from None
    return None


def _chunks(f: IO[bytes], size: int) -> Iterator[bytes]:
    """The next ``size`` bytes of ``f``, a megabyte at a time."""
    while size > 0 and (chunk := f.read(min(size, 1 << 20))):
        size -= len(chunk)
        yield chunk


def find_prompt(path: str | Path, digest: str) -> str | None:
    """The text of the prompt with this hash (prompt records come early: the scan stops there)."""
    prefix = b'{"type":"prompt","hash":' + json.dumps(digest).encode()
    with open(path, "rb") as f:
        for raw in f:
            if raw.startswith(prefix):
                try:
                    return str(_record(raw, 2, False)["text"])
                except _Bad:
                    return None
    return None


# ------------------------------------------------------------------------------------ replaying


class Tape:
    """The tape and head replayed from a trace: the header's initial tape, then each step's writes."""

    def __init__(self, header: Record):
        self.blank: str = header["blank"]
        self.cells: dict[int, str] = {int(k): v for k, v in header["tape"].items()}
        self.head: int = header["head"]

    def restore(self, record: Record) -> None:
        """Take the tape and head from a tape record."""
        self.cells = {int(k): v for k, v in record["tape"].items()}
        self.head = record["head"]

    def apply(self, step: Record) -> None:
        """Apply one step's writes."""
        for where, value in step["writes"]:
            if where == "i":
                self.head = value
            elif where != "op":
                self.cells[int(where)] = value

    def window(self, head: int, radius: int) -> str:
        """The cells around ``head``, the head's in brackets: ``0 1 [1] 0``."""
        get, blank = self.cells.get, self.blank
        return " ".join(f"[{get(p, blank)}]" if p == head else get(p, blank) for p in range(head - radius, head + radius + 1))
