"""Running a compiled program on a backend: the VM, the memo, the lockstep check and the outcome.

Every consumer (the CLI, tests, the trace writer) drives the same ``VM.steps()`` stream; this module
adds what a run needs around it and turns every way a run can end into one ``RunResult``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from llmvm.backends import Backend, label
from llmvm.backends.cache import Cached
from llmvm.checkpoint import Checkpointer, Interrupts, Resume
from llmvm.compile import Image
from llmvm.errors import BackendError, CompletionError, DivergenceError
from llmvm.fastpath import FastPath
from llmvm.lockstep import Lockstep
from llmvm.program import Configuration
from llmvm.vm import VM, Step

Observer = Callable[[Step], None]
Progress = Callable[[int, "str | None"], None]  # (cycles done, current state or None once halted)
BURST = 1 << 16  # replayed cycles between progress reports and reference catch-ups


@dataclass(frozen=True)
class RunResult:
    """How a run of the LLM machine ended."""

    status: str  # halted | step-limit | diverged | bad-completion | backend-error | interrupted
    cycles: int
    config: Configuration
    calls: int  # real backend calls
    cache_hits: int
    backend: str  # the backend's label; non-LLM backends say so
    is_llm: bool
    seconds: float
    checked: bool  # True when every cycle was compared with the reference
    error: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "halted"


def run(image: Image, backend: Backend, *, max_steps: int, check: bool = True, memo: bool = True,
        observers: tuple[Observer, ...] = (), progress: Progress | None = None, start: Resume | None = None,
        checkpoint: Checkpointer | None = None, retries: int = 0) -> RunResult:
    """Run the image from its initial memory (or from ``start``) until ``max_steps`` cycles in all.

    ``backend`` may already be a :class:`Cached` (with a store); otherwise it gets an in-run memo
    unless ``memo`` is False. ``observers`` see every cycle as a Step, so they make every cycle run
    in full; without them, cycles already seen are replayed (see fastpath.py). ``progress`` is
    called with the cycle count and the current state now and then (it throttles itself).
    ``checkpoint`` saves the run as it starts, goes and ends (see checkpoint.py); a completion the
    harness refuses is re-asked up to ``retries`` times, and every refused one is in ``extra``.
    """
    memory = dict(start.memory) if start else image.memory()
    cpu = backend if isinstance(backend, Cached) else Cached(backend, dialect=image.dialect.name, memo=memo)
    stop = Interrupts()
    vm = VM(memory, stop.guard(cpu), image.harness(), cycle=start.cycle if start else 0)
    fast = FastPath(vm) if cpu.memo is not None and not observers else None
    lock = Lockstep(image, memory, start=start.reference if start else None) if check else None
    bad = BadAnswers(cpu, retries)
    status, error = "step-limit", ""
    last: Step | None = None
    first, started = vm.cycle, time.perf_counter()
    steps = vm.steps()
    stop.install()
    try:
        if checkpoint:
            checkpoint.attach(vm, lock)
        while not vm.halted and vm.cycle < max_steps:
            stop.check()
            if checkpoint:
                checkpoint.tick()
            if fast:
                n = fast.advance(min(BURST, max_steps - vm.cycle))
                if n:
                    if lock:
                        lock.skip(n, vm.cycle)
                    if progress:
                        progress(vm.cycle, image.state_of.get(memory["op"]))
                    continue
                fast.learn()
            try:
                step = next(steps)
            except CompletionError as e:
                bad.retry(e)  # re-raises once this cycle has had its retries
                steps = vm.steps()
                continue
            if lock:
                lock.check(step)
            for observe in observers:
                observe(step)
            if progress:
                progress(vm.cycle, image.state_of.get(memory["op"]))
            last = step
        if vm.halted:
            status = "halted"
        if lock:
            lock.finish(vm.cycle)
    except DivergenceError as e:
        status, error = "diverged", str(e)
    except CompletionError as e:
        status, error = "bad-completion", str(e)
    except BackendError as e:
        status, error = "backend-error", str(e)
    except KeyboardInterrupt:
        status, error = "interrupted", f"interrupted after {vm.cycle} cycles"
    finally:
        stop.restore()
    if checkpoint and status != "diverged" and not stop.forced:  # a diverged state is not worth resuming
        checkpoint.save(status, error)
    seconds = time.perf_counter() - started
    final = lock.ref.state if lock else _last_state(image, fast, last)
    return RunResult(
        status=status, cycles=vm.cycle, config=image.decode(memory, last_state=final),
        calls=cpu.calls, cache_hits=max(vm.cycle - first - cpu.calls, 0),  # every other cycle needed no call
        backend=label(backend), is_llm=backend.is_llm,
        seconds=seconds, checked=lock is not None, error=error,
        extra={"bad_completions": bad.seen} if bad.seen else {},
    )


class BadAnswers:
    """Completions the harness refused: each is recorded and forgotten by the cache, then re-asked or final."""

    def __init__(self, cpu: Cached, retries: int):
        self.cpu, self.retries = cpu, retries
        self.seen: list[dict[str, Any]] = []  # cycle, raw output and reason of every refused answer

    def retry(self, e: CompletionError) -> None:
        """Record and forget the refused answer; re-raise ``e`` when its cycle may not ask again."""
        if not e.prompt:
            raise e  # the instruction itself could not be read: asking again cannot help
        self.cpu.forget(e.prompt)
        self.seen.append({"cycle": e.step, "output": e.output, "reason": e.reason})
        if sum(b["cycle"] == e.step for b in self.seen) > self.retries:
            raise e


def _last_state(image: Image, fast: FastPath | None, last: Step | None) -> str | None:
    """The state of the last cycle run (in full, or replayed if that came later)."""
    if fast and fast.last_instruction and (last is None or fast.replayed and last.n < fast.vm.cycle):
        return image.state_of.get(fast.last_instruction)
    return image.state_of.get(last.instruction) if last else None
