"""Lockstep checking: the LLM machine against the reference simulator, after every cycle.

By induction it is enough to compare, after each cycle, what can have changed: the state (the
instruction text in ``op``), the head, and the cells either side wrote. The first difference stops
the run with both configurations in the message.
"""

from __future__ import annotations

from llmvm.compile import Image
from llmvm.errors import DivergenceError
from llmvm.memory import CELL, HALT, Memory
from llmvm.program import Configuration
from llmvm.reference import Reference
from llmvm.vm import Step


class Lockstep:
    """Advances a reference machine one transition per cycle and compares."""

    def __init__(self, image: Image, memory: Memory, *, start: tuple[Configuration, int] | None = None):
        """Start from the initial configuration, or from ``start`` = (configuration, steps) of a resumed run."""
        self.image = image
        self.ref = Reference(image.machine)
        if start is not None:
            self.ref.restore(*start)
        self.memory = memory
        ref = self.ref.config()
        vm = image.decode(memory, last_state=ref.state)
        same_state = memory["op"] == (HALT if ref.halted else image.instructions[ref.state])
        if not same_state or (vm.head, dict(vm.tape)) != (ref.head, dict(ref.tape)):
            self._fail(0, "the initial memory does not encode the machine's initial configuration" if start is None
                       else "the resumed memory does not encode the reference's saved configuration")

    def check(self, step: Step) -> None:
        """Compare after one cycle; raise DivergenceError at the first difference."""
        ref, memory = self.ref, self.memory
        written = ref.head
        ref.step()
        op = memory["op"]
        if ref.halted != (op == HALT):
            self._fail(step.n, "the LLM machine halted and the reference did not" if op == HALT
                       else "the reference halted and the LLM machine did not")
        if not ref.halted and op != self.image.instructions[ref.state]:
            self._fail(step.n, f"different state: the reference is in {ref.state}")
        if memory["i"] != ref.head:
            self._fail(step.n, f"different head: reference {ref.head}, LLM machine {memory['i']}")
        cells = {written} | {int(label) for label, _ in step.writes if CELL.fullmatch(label)}
        blank = self.image.machine.blank
        for pos in cells:
            if memory.get(str(pos), blank) != ref.symbol(pos):
                self._fail(step.n, f"different symbol in cell {pos}")

    def skip(self, n: int, cycle: int) -> None:
        """The LLM machine replayed ``n`` recorded cycles; advance the reference and compare.

        Each replayed cycle repeats the effect of a cycle that was checked here in full, and both
        machines' next move depends only on (state, symbol), so equal state and head suffice; the
        tape is compared in full by ``finish``.
        """
        ref, memory = self.ref, self.memory
        ref.run(n)
        op = memory["op"]
        if ref.halted != (op == HALT) or (not ref.halted and op != self.image.instructions[ref.state]):
            self._fail(cycle, f"different state after {n} replayed cycles")
        if memory["i"] != ref.head:
            self._fail(cycle, f"different head after {n} replayed cycles")

    def finish(self, n: int) -> None:
        """Compare the whole tape (O(tape): once, at the end of a run)."""
        blank = self.image.machine.blank
        vm = {p: s for p, s in self.image.decode(self.memory).tape.items() if s != blank}
        if vm != dict(self.ref.config().tape):
            self._fail(n, "different tapes at the end of the run")

    def _fail(self, n: int, why: str) -> None:
        blank = self.image.machine.blank
        ref = self.ref.config()
        vm = self.image.decode(self.memory, last_state=ref.state)
        raise DivergenceError(
            f"divergence at cycle {n}: {why}\n"
            f"  reference:   {ref.describe(blank)}\n"
            f"  LLM machine: {vm.describe(blank)}"
        )
