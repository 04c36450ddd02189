"""Running a compiled program on a backend: the VM, the memo, the lockstep check and the outcome.

Every consumer (the CLI, tests, the trace writer) drives the same ``VM.steps()`` stream; this module
adds what a run needs around it and turns every way a run can end into one ``RunResult``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from llmvm.backends import Backend, label
from llmvm.backends.cache import Cached
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
        observers: tuple[Observer, ...] = (), progress: Progress | None = None) -> RunResult:
    """Run the image from its initial memory for at most ``max_steps`` cycles.

    ``backend`` may already be a :class:`Cached` (with a store); otherwise it gets an in-run memo
    unless ``memo`` is False. ``observers`` see every cycle as a Step, so they make every cycle run
    in full; without them, cycles already seen are replayed (see fastpath.py). ``progress`` is
    called with the cycle count and the current state now and then (it throttles itself).
    """
    memory = image.memory()
    cpu = backend if isinstance(backend, Cached) else Cached(backend, dialect=image.dialect.name, memo=memo)
    vm = VM(memory, cpu, image.harness())
    fast = FastPath(vm) if cpu.memo is not None and not observers else None
    lock = Lockstep(image, memory) if check else None
    status, error = "step-limit", ""
    last: Step | None = None
    started = time.perf_counter()
    steps = vm.steps()
    try:
        while not vm.halted and vm.cycle < max_steps:
            if fast:
                n = fast.advance(min(BURST, max_steps - vm.cycle))
                if n:
                    if lock:
                        lock.skip(n, vm.cycle)
                    if progress:
                        progress(vm.cycle, image.state_of.get(memory["op"]))
                    continue
                fast.learn()
            step = next(steps)
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
    seconds = time.perf_counter() - started
    final = lock.ref.state if lock else _last_state(image, fast, last)
    return RunResult(
        status=status, cycles=vm.cycle, config=image.decode(memory, last_state=final),
        calls=cpu.calls, cache_hits=max(vm.cycle - cpu.calls, 0),  # every other cycle needed no call
        backend=label(backend), is_llm=backend.is_llm,
        seconds=seconds, checked=lock is not None, error=error,
    )


def _last_state(image: Image, fast: FastPath | None, last: Step | None) -> str | None:
    """The state of the last cycle run (in full, or replayed if that came later)."""
    if fast and fast.last_instruction and (last is None or fast.replayed and last.n < fast.vm.cycle):
        return image.state_of.get(fast.last_instruction)
    return image.state_of.get(last.instruction) if last else None
