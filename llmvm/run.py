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
from llmvm.lockstep import Lockstep
from llmvm.program import Configuration
from llmvm.vm import VM, Step

Observer = Callable[[Step], None]


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


def run(image: Image, backend: Backend, *, max_steps: int, check: bool = True,
        memo: bool = True, observers: tuple[Observer, ...] = ()) -> RunResult:
    """Run the image from its initial memory for at most ``max_steps`` cycles.

    ``backend`` may already be a :class:`Cached` (with a store); otherwise it gets an in-run memo
    unless ``memo`` is False.
    """
    memory = image.memory()
    cpu = backend if isinstance(backend, Cached) else Cached(backend, dialect=image.dialect.name, memo=memo)
    vm = VM(memory, cpu, image.harness())
    lock = Lockstep(image, memory) if check else None
    status, error = "step-limit", ""
    last: Step | None = None
    started = time.perf_counter()
    try:
        if vm.halted:
            status = "halted"
        for step in vm.steps():
            if lock:
                lock.check(step)
            for observe in observers:
                observe(step)
            last = step
            if vm.halted:
                status = "halted"
                break
            if step.n >= max_steps:
                break
    except DivergenceError as e:
        status, error = "diverged", str(e)
    except CompletionError as e:
        status, error = "bad-completion", str(e)
    except BackendError as e:
        status, error = "backend-error", str(e)
    except KeyboardInterrupt:
        status, error = "interrupted", f"interrupted after {vm.cycle} cycles"
    seconds = time.perf_counter() - started
    final = lock.ref.state if lock else (image.state_of.get(last.instruction) if last else None)
    return RunResult(
        status=status, cycles=vm.cycle, config=image.decode(memory, last_state=final),
        calls=cpu.calls, cache_hits=cpu.hits, backend=label(backend), is_llm=backend.is_llm,
        seconds=seconds, checked=lock is not None, error=error,
    )
