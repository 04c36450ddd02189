"""The stored-instruction computer: read, compute, write — one cycle per instruction executed.

The instruction register ``op`` holds the *text* of the current instruction. Each cycle reads the
memory into it (``@[...]``), asks the CPU once, and writes the answer back (``%[...]``, assignments,
updates). The answer decides everything that happens next, including which instruction runs next
(``op="%[B]"`` copies instruction B's text into ``op``) and when to stop (``op="halt"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from llmvm.backends import Backend, Completion
from llmvm.errors import CompletionError
from llmvm.memory import HALT, Address, Harness, Memory, Value


@dataclass(frozen=True, slots=True)
class Step:
    """One completed cycle: what was asked, what came back, what was written."""

    n: int  # cycle number, from 1
    instruction: str  # the text that was in op: which instruction ran
    prompt: str
    completion: Completion
    writes: tuple[tuple[Address, Value], ...]  # (label, new value) in the order applied


class VM:
    """A memory, a harness and a CPU. ``steps()`` runs it; nothing else changes the memory."""

    def __init__(self, memory: Memory, cpu: Backend, harness: Harness, *, cycle: int = 0):
        self.memory = memory
        self.cpu = cpu
        self.harness = harness
        self.cycle = cycle  # cycles completed so far (a resumed run starts where it stopped)

    @property
    def halted(self) -> bool:
        return self.memory["op"] == HALT

    def steps(self) -> Iterator[Step]:
        """Run until ``op`` holds ``halt``, yielding each cycle. Stop early by not asking for more."""
        memory, harness, cpu = self.memory, self.harness, self.cpu
        while (instruction := memory["op"]) != HALT:
            n = self.cycle + 1
            prompt = ""
            completion = Completion("")
            try:
                # read: expand @[label] in the instruction, nested (@[@[i]] -> @[17] -> 1)
                prompt = harness.read(instruction, memory)
                # compute: one greedy call to the CPU
                completion = cpu.complete(prompt)
                # write: %[label] substitution, then assignments and updates, all or nothing
                writes = harness.write(completion.text, memory)
            except CompletionError as e:
                raise e.with_context(step=n, prompt=prompt, output=completion.text) from None
            self.cycle = n
            yield Step(n, instruction, prompt, completion, writes)
