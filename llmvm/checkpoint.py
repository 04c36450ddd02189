"""Checkpoints: a run's whole state in one JSON file, replaced atomically, so that nothing is lost.

A checkpoint holds how a run was set up (:class:`Setup`: the program file and its sha256, the
dialect, the backend's name and options — never a key —, the cache and the limits) and where it
is (:class:`Resume`: the VM's memory, the cycle counter and, when checking, the reference's
configuration). The file is ``{"format": "llmvm-checkpoint", "version": 1, "sha256": …, "body":
{…}}`` with the sha256 taken over the body's canonical JSON. It is written to a temporary file in
the same directory, fsynced and renamed over the old one, so a crash at any moment leaves the old
checkpoint or the new one, never a mix. :func:`load` and :func:`rebuild` refuse a corrupt,
truncated, foreign or stale file with a :class:`CheckpointError` naming it and what is wrong.

A run saves at burst boundaries of its loop (:class:`Checkpointer`), where memory, cycle counter
and reference agree; Ctrl-C is taken at such a boundary too (:class:`Interrupts`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import signal
import threading
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import regex

from llmvm.errors import CheckpointError, LLMVMError
from llmvm.memory import CELL, HALT, Memory
from llmvm.program import Configuration

if TYPE_CHECKING:
    from llmvm.backends import Backend, Completion
    from llmvm.compile import Image
    from llmvm.lockstep import Lockstep
    from llmvm.vm import VM

FORMAT = "llmvm-checkpoint"
VERSION = 1
SECRET = regex.compile(r"key|token|secret|passw|auth|cred", regex.IGNORECASE)  # option names never saved
_USERINFO = regex.compile(r"://[^/@\s]*@")  # user:password@ inside a URL: never saved either
_AGAIN = "use an older copy, or start the run again with `llmvm run`"


@dataclass(frozen=True)
class Setup:
    """How a run was started: enough to start it again, and no secret."""

    program: str  # the program file (absolute path), or the compact notation given in its place
    program_sha256: str
    dialect: str  # a shipped dialect's name, or a dialect file (absolute path)
    backend: str
    options: tuple[str, ...]  # KEY=VALUE backend options; a key, token or password is never kept
    cache: str
    cache_mode: str
    max_steps: int
    check: bool = True
    memo: bool = True
    retries: int = 0  # --on-bad-completion retry:N (0 = stop at the first bad completion)
    every: int = 0  # save every this many cycles (0 = not by cycles)
    seconds: float = 0.0  # and/or every this many seconds (0 = not by time)
    tape: str = ""  # the compiled U15,2 tape file the run started from (absolute path), if any

    @classmethod
    def create(cls, program: str, *, dialect: str, options: Iterable[str], cache: str, **rest: Any) -> "Setup":
        """A new run's setup: files made absolute, the program digested, secret-looking options dropped."""
        tape = rest.pop("tape", "")
        return cls(program=_absolute(program), program_sha256=program_digest(program), dialect=_absolute(dialect),
                   options=tuple(o for o in options if _public(o)),
                   cache=os.path.abspath(cache), tape=_absolute(tape) if tape else "", **rest)


@dataclass(frozen=True)
class Resume:
    """Where a run stopped: its memory, the cycles done and, if checked, the reference's (configuration, steps)."""

    memory: Memory
    cycle: int
    reference: tuple[Configuration, int] | None = None


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint read back from its file."""

    path: Path
    setup: Setup
    resume: Resume
    status: str  # "running", or how the run ended when it was saved
    error: str = ""


def _public(option: str) -> bool:
    name, _, value = option.partition("=")
    return not SECRET.search(name) and not _USERINFO.search(value)


def _absolute(name: str) -> str:
    return str(Path(name).resolve()) if Path(name).is_file() else name


def program_digest(program: str) -> str:
    """sha256 of the program file's bytes, or of the compact notation given in place of a file."""
    path = Path(program)
    return hashlib.sha256(path.read_bytes() if path.is_file() else program.encode("utf-8")).hexdigest()


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("ascii")


# --------------------------------------------------------------------------------------- writing


def save(path: str | Path, setup: Setup, resume: Resume, status: str = "running", error: str = "") -> None:
    """Write a checkpoint atomically: afterwards ``path`` holds either the old checkpoint or this one."""
    body = {"setup": asdict(setup), "cycle": resume.cycle, "memory": resume.memory,
            "reference": _reference_json(resume.reference), "status": status, "error": error,
            "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    digest = hashlib.sha256(_canonical(body)).hexdigest()
    doc = {"format": FORMAT, "version": VERSION, "sha256": digest, "body": body}
    _write_atomically(Path(path), json.dumps(doc).encode("ascii"))


def _reference_json(reference: tuple[Configuration, int] | None) -> dict[str, Any] | None:
    if reference is None:
        return None
    c, steps = reference
    return {"state": c.state, "head": c.head, "tape": {str(p): s for p, s in c.tape.items()},
            "halted": c.halted, "steps": steps}


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        raise CheckpointError(f"{path}: cannot write the checkpoint ({e.strerror or e}); "
                              "choose another --checkpoint path, or free some space") from None
    with contextlib.suppress(OSError):  # make the rename itself durable, where the OS allows it
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class Checkpointer:
    """Saves a run to one file as it starts, every ``every`` cycles and/or ``seconds``, and as it ends."""

    def __init__(self, path: str | Path, setup: Setup):
        self.path = Path(path)
        self.setup = setup
        self.saves = 0
        self._vm: VM | None = None
        self._lock: Lockstep | None = None
        self._next_cycle = self._next_time = math.inf

    def attach(self, vm: "VM", lock: "Lockstep | None") -> None:
        """Follow this run, and save it now (which also proves the file writable before any work)."""
        self._vm, self._lock = vm, lock
        self.save()

    def tick(self) -> None:
        """Save if due: called once per loop iteration, so it costs two comparisons when not."""
        assert self._vm is not None
        if self._vm.cycle >= self._next_cycle or time.monotonic() >= self._next_time:
            self.save()

    def save(self, status: str = "running", error: str = "") -> None:
        """Save the run's state as it is now (the caller knows it is consistent)."""
        vm, ref = self._vm, self._lock.ref if self._lock else None
        assert vm is not None
        save(self.path, self.setup, Resume(vm.memory, vm.cycle, (ref.config(), ref.steps) if ref else None),
             status, error)
        self.saves += 1
        every, seconds = self.setup.every, self.setup.seconds
        self._next_cycle = vm.cycle + every if every > 0 else math.inf
        self._next_time = time.monotonic() + seconds if seconds > 0 else math.inf


# --------------------------------------------------------------------------------------- reading


def load(path: str | Path) -> Checkpoint:
    """Read a checkpoint, refusing anything truncated, corrupt, foreign or malformed."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read the checkpoint ({e.strerror or e})") from None
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as e:  # ValueError covers bad JSON and bad UTF-8
        raise CheckpointError(f"{path}: not a checkpoint: truncated or not JSON ({str(e)[:80]}); {_AGAIN}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointError(f'{path}: not an llmvm checkpoint (no "format": "{FORMAT}"); '
                              "pass the file written by `llmvm run --checkpoint`")
    if doc.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {doc.get('version')!r}, but this llmvm reads "
                              f"version {VERSION}; resume it with the llmvm that wrote it")
    body = doc.get("body")
    if not isinstance(body, dict) or doc.get("sha256") != hashlib.sha256(_canonical(body)).hexdigest():
        raise CheckpointError(f"{path}: corrupt checkpoint: its sha256 does not match its contents "
                              f"(damaged or edited); {_AGAIN}")
    return _Reader(path).checkpoint(body)


class _Reader:
    """Turns a checkpoint body into typed values, naming the first field that is wrong."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, what: str) -> CheckpointError:
        return CheckpointError(f"{self.path}: malformed checkpoint: {what}; {_AGAIN}")

    def get(self, obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
        value = obj.get(key)
        if kind is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
        elif kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**18
        else:
            ok = isinstance(value, kind)
        if not ok:
            raise self.fail(f"{where}{key} is missing or not a {kind.__name__}")
        return value

    def checkpoint(self, body: dict[str, Any]) -> Checkpoint:
        raw = self.get(body, "setup", dict, "")
        values = {f.name: self.get(raw, f.name, _KINDS[f.name], "setup.") for f in fields(Setup)}
        if not all(isinstance(o, str) for o in values["options"]):
            raise self.fail("setup.options must be KEY=VALUE strings")
        setup = Setup(**{**values, "options": tuple(values["options"])})
        memory = self.get(body, "memory", dict, "")
        if not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in memory.values()):
            raise self.fail("memory values must be strings or integers")
        cycle = self.get(body, "cycle", int, "")
        if cycle < 0:
            raise self.fail("cycle is negative")
        reference = body.get("reference")
        if reference is None and setup.check:
            raise self.fail("the run checks the reference but saved no reference configuration")
        resume = Resume(memory, cycle, None if reference is None else self.reference(reference))
        return Checkpoint(self.path, setup, resume, self.get(body, "status", str, ""), self.get(body, "error", str, ""))

    def reference(self, raw: Any) -> tuple[Configuration, int]:
        if not isinstance(raw, dict):
            raise self.fail("reference must be an object or null")
        tape = self.get(raw, "tape", dict, "reference.")
        if not all(CELL.fullmatch(p) and isinstance(s, str) for p, s in tape.items()):
            raise self.fail("reference.tape must map cell positions to symbols")
        config = Configuration(self.get(raw, "state", str, "reference."), self.get(raw, "head", int, "reference."),
                               {int(p): s for p, s in tape.items()}, self.get(raw, "halted", bool, "reference."))
        return config, self.get(raw, "steps", int, "reference.")


_KINDS: dict[str, type] = {"options": list, "max_steps": int, "check": bool, "memo": bool, "retries": int,
                           "every": int, "seconds": float, **dict.fromkeys(
                               ("program", "program_sha256", "dialect", "backend", "cache", "cache_mode", "tape"), str)}


def rebuild(ck: Checkpoint) -> "Image":
    """Compile the checkpoint's program again, after checking that it is the one the run used."""
    from llmvm import dialect as dialect_mod
    from llmvm import program as program_mod
    from llmvm.compile import compile_machine

    setup = ck.setup
    try:
        now = program_digest(setup.program)
    except OSError as e:
        raise CheckpointError(f"{ck.path}: cannot read its program {setup.program} ({e.strerror or e})") from None
    if now != setup.program_sha256:
        raise CheckpointError(f"{ck.path}: its program {setup.program} is missing or has changed since the "
                              f"checkpoint was written (sha256 {now[:12]}…, was {setup.program_sha256[:12]}…); "
                              "restore that file, or start afresh with `llmvm run`")
    try:
        image = compile_machine(program_mod.load(setup.program), dialect_mod.load(setup.dialect))
    except LLMVMError as e:
        raise CheckpointError(f"{ck.path}: cannot compile its program again: {e}") from None
    _check_memory(ck, image)
    return image


def _check_memory(ck: Checkpoint, image: "Image") -> None:
    """The saved memory must be a state of this compiled program: same boot and instructions, a valid tape."""
    memory, machine = ck.resume.memory, image.machine
    fixed = {k: v for k, v in image.memory().items() if k not in ("op", "i") and not CELL.fullmatch(k)}
    where = f"{ck.path}: its memory does not belong to {machine.name} compiled in dialect {image.dialect.name}"
    changed = sorted(k for k, v in fixed.items() if memory.get(k) != v)
    unknown = sorted(k for k in memory if k not in fixed and k not in ("op", "i") and not CELL.fullmatch(k))
    if changed or unknown:
        raise CheckpointError(f"{where} ({'changed' if changed else 'unknown'} label {(changed or unknown)[0]!r}) — "
                              "was the dialect file or llmvm changed? Start afresh with `llmvm run`")
    ops = {*image.instructions.values(), HALT}
    if memory.get("op") not in ops or not isinstance(memory.get("i"), int):
        raise CheckpointError(f"{where} (op or i is not a value the program can hold); {_AGAIN}")
    symbols = set(machine.symbols)
    cells = [v for k, v in memory.items() if CELL.fullmatch(k)]
    if ck.resume.reference is not None:
        config = ck.resume.reference[0]
        if config.state not in machine.states:
            raise CheckpointError(f"{where} (the reference is in unknown state {config.state!r}); {_AGAIN}")
        cells += list(config.tape.values())
    if not all(isinstance(s, str) and s in symbols for s in cells):
        raise CheckpointError(f"{where} (a tape cell holds a symbol outside the alphabet); {_AGAIN}")


# --------------------------------------------------------------------------------------- Ctrl-C


class Interrupts:
    """Ctrl-C during a run, taken where memory, cycle counter and reference agree.

    While the CPU is being asked nothing has been written yet, so Ctrl-C stops the run at once;
    anywhere else it is noted and raised by ``check()`` at the next loop iteration. A second Ctrl-C
    before then stops at once and sets ``forced``: the state may be mid-cycle, so it is not saved.
    Only the main thread receives signals; elsewhere this changes nothing.
    """

    def __init__(self) -> None:
        self.pending = self.asking = self.forced = self.installed = False
        self._previous: Any = None

    def install(self) -> None:
        """Take over Ctrl-C until ``restore()``."""
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
            self.installed = True

    def restore(self) -> None:
        """Give Ctrl-C back to whoever had it."""
        if self.installed:
            signal.signal(signal.SIGINT, self._previous)
            self.installed = False

    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self.asking or self.pending:
            self.forced = not self.asking
            raise KeyboardInterrupt
        self.pending = True

    def check(self) -> None:
        """Raise the Ctrl-C noted since the last iteration, if any."""
        if self.pending:
            raise KeyboardInterrupt

    def guard(self, cpu: "Backend") -> "Backend":
        """``cpu``, telling this object while a call is in progress."""
        return _Asking(cpu, self)


class _Asking:
    """A CPU that marks its calls, so that Ctrl-C may interrupt them at once."""

    def __init__(self, cpu: "Backend", interrupts: Interrupts):
        self.cpu, self.interrupts = cpu, interrupts
        self.name, self.is_llm = cpu.name, cpu.is_llm

    def complete(self, prompt: str) -> "Completion":
        self.interrupts.asking = True
        try:
            return self.cpu.complete(prompt)
        finally:
            self.interrupts.asking = False

    def describe(self) -> dict[str, Any]:
        return self.cpu.describe()
