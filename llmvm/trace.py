"""Traces: every cycle of a run as JSON Lines — the writer (a run observer) and a streaming reader.

Format ``llmvm-trace`` version 1 (README: Trace format), one JSON object per line:

* ``header`` — program, digest, dialect, backend, settings, start time, initial tape/head/state;
* ``prompt`` — ``{"hash", "text"}``, once, just before the first step that sends that prompt;
* ``step``   — ``n``, ``state``, ``head``, ``read``, ``prompt`` (hash), ``completion``, ``writes``,
  ``latency``, ``tokens_in``/``tokens_out`` (when reported), ``cached``;
* ``footer`` — how the run ended: ``status``, ``steps``, ``calls``, ``cache_hits``, ``wall``.

Every record is flushed as it is written, so a killed run leaves a readable file; the reader treats
an incomplete last line as the end and says so (``truncated``). Nothing is loaded whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Iterator

from llmvm.backends import Backend, label
from llmvm.compile import Image
from llmvm.errors import TraceError
from llmvm.memory import CELL, HALT
from llmvm.run import RunResult, run
from llmvm.vm import Step

FORMAT, VERSION = "llmvm-trace", 1
HASH_CHARS = 16
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

    def __init__(self, path: str | Path, image: Image, cpu: Backend, *, program: str = ""):
        self.path = Path(path)
        self._state_of = image.state_of
        machine = image.machine
        self._blank = machine.blank
        self._tape: dict[int, str] = dict(machine.tape())
        self._head = machine.head
        self._hashes: dict[str, str] = {}  # prompt text -> hash, for prompts already written
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
            "tape": {str(p): s for p, s in sorted(self._tape.items())}, "head": machine.head,
            "state": machine.start,
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
        record["writes"] = self._writes(step)  # last: a reader can find it at the end of the line
        self._emit(record)

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
    """``run()`` with a trace written to ``path``, footer included."""
    with TraceWriter(path, image, cpu, program=program) as writer:
        result = run(image, cpu, observers=(writer, *options.pop("observers", ())), **options)
        writer.finish(result)
    return result


# ------------------------------------------------------------------------------------ reading

_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "header": {"format": (str,), "version": (int,), "blank": (str,), "symbols": (list,), "states": (list,),
               "tape": (dict,), "head": (int,), "state": (str,)},
    "prompt": {"hash": (str,), "text": (str,)},
    "step": {"n": (int,), "state": (str,), "head": (int,), "read": (str,), "prompt": (str,),
             "completion": (str,), "writes": (list,), "cached": (bool,)},
    "footer": {"status": (str,), "steps": (int,)},
}


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
        self.truncated, self.footer = False, None
        records = 0
        with open(self.path, "rb") as f:
            for line, raw in enumerate(f, 1):
                try:
                    record = self._record(raw, line)
                except TraceError:
                    if raw.endswith(b"\n"):
                        raise
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
        for record in self:
            return record
        raise TraceError(f"{self.path}: empty file, not an llmvm trace")

    def steps(self) -> Iterator[Record]:
        """The step records only."""
        return (r for r in self if r["type"] == "step")

    def _record(self, raw: bytes, line: int) -> Record:
        where = f"{self.path}:{line}"
        try:
            record = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError) as e:
            raise TraceError(f"{where}: not a JSON line ({str(e)[:80]})") from None
        kind = record.get("type") if isinstance(record, dict) else None
        if kind not in _FIELDS:
            raise TraceError(f"{where}: not a trace record (needs a \"type\" of {', '.join(_FIELDS)})")
        if (line == 1) != (kind == "header"):
            raise TraceError(f"{where}: " + ("the first line must be the header" if line == 1 else "a second header"))
        if self.footer is not None:
            raise TraceError(f"{where}: a record after the footer")
        for name, types in _FIELDS[kind].items():
            if type(record.get(name)) not in types:
                raise TraceError(f"{where}: {kind} record: {name!r} missing or not a {types[0].__name__}")
        _CHECKS[kind](record, where)
        return record


def _check_header(record: Record, where: str) -> None:
    if record["format"] != FORMAT or record["version"] != VERSION:
        raise TraceError(f"{where}: format {record['format']!r} version {record['version']!r}; "
                         f"this llmvm reads {FORMAT!r} version {VERSION}")
    if not all(CELL.fullmatch(k) and isinstance(v, str) for k, v in record["tape"].items()):
        raise TraceError(f"{where}: header tape must map cell numbers to symbols")


def _check_step(record: Record, where: str) -> None:
    for w in record["writes"]:
        ok = type(w) is list and len(w) == 2 and type(w[0]) is str
        if ok and w[0] == "i":
            ok = type(w[1]) is int
        elif ok:
            ok = type(w[1]) is str and (w[0] == "op" or CELL.fullmatch(w[0]) is not None)
        if not ok:
            raise TraceError(f"{where}: step {record['n']}: bad write {str(w)[:60]} (want [cell|\"op\", text] or [\"i\", int])")


_CHECKS = {"header": _check_header, "step": _check_step, "prompt": lambda r, w: None, "footer": lambda r, w: None}


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
        record = json.loads(last.decode("utf-8"))
    except (ValueError, RecursionError):
        return None, cut
    footer = record if isinstance(record, dict) and record.get("type") == "footer" else None
    return footer, cut and footer is None


# ------------------------------------------------------------------------------------ replaying


class Tape:
    """The tape and head replayed from a trace: the header's initial tape, then each step's writes."""

    def __init__(self, header: Record):
        self.blank: str = header["blank"]
        self.cells: dict[int, str] = {int(k): v for k, v in header["tape"].items()}
        self.head: int = header["head"]

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
