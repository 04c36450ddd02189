"""The reference simulator: runs a Turing machine directly. It is the ground truth.

Written to be fast in CPython and obviously right:

* symbols are small integers in a ``bytearray`` tape; states are row offsets into one flat
  transition list, ``trans[row + symbol] -> (write, move, next_row)`` or ``None`` (halt);
* the tape carries a *sentinel* cell at each end whose transitions are all ``None``, so the hot
  loop has no bounds check: reaching a sentinel looks like a halt, and the slow path then tells
  a real halt from the tape's edge and grows the tape (doubling, so growth is amortised O(1)).

A step is one transition. Finding no rule for (state, symbol) halts the machine without a step;
entering a *halting state* (one with no rules) halts it right after that step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from llmvm.errors import ProgramError
from llmvm.program import Configuration, State, Symbol, TuringMachine

Transition = tuple[int, int, int]  # (symbol code to write, move, row of the next state)

ROW = 256  # a state's row in the flat transition list; symbol codes are bytes
SENTINEL = 255  # the code of the cells just beyond the allocated tape
MAX_SYMBOLS = SENTINEL


@dataclass(frozen=True)
class Outcome:
    """How a reference run ended."""

    status: str  # "halted" | "step-limit"
    steps: int
    config: Configuration


class Reference:
    """A running Turing machine. ``step()`` for lockstep checking, ``run()`` for speed."""

    def __init__(self, machine: TuringMachine):
        if len(machine.symbols) > MAX_SYMBOLS:
            raise ProgramError(f"{machine.source}: the reference supports at most {MAX_SYMBOLS} symbols")
        self.machine = machine
        self.symbols: tuple[Symbol, ...] = machine.symbols  # code -> symbol; the blank is code 0
        self.code = {s: k for k, s in enumerate(self.symbols)}
        self.states: tuple[State, ...] = machine.states
        rows = {q: k * ROW for k, q in enumerate(self.states)}
        self.trans: list[Transition | None] = [None] * (len(self.states) * ROW)
        for q, rules in machine.table.items():
            for s, r in rules.items():
                self.trans[rows[q] + self.code[s]] = (self.code[r.write], r.move, rows[r.next])
        self.steps = 0
        self.halted = machine.is_halting(machine.start)
        self._row = rows[machine.start]
        self._place(dict(enumerate(machine.input)), machine.head)

    def _place(self, cells: Mapping[int, Symbol], head: int) -> None:
        """Lay out a tape holding ``cells`` with the head on cell ``head``."""
        # tape[k] is cell k - origin; cells 0 and len-1 of the bytearray are sentinels
        lo = min(0, head, *cells)
        hi = max(0, head, *cells) + 1
        self._origin = 1 - lo
        self._tape = bytearray([SENTINEL]) + bytearray(hi - lo) + bytearray([SENTINEL])
        for position, symbol in cells.items():
            self._tape[self._origin + position] = self.code[symbol]
        self._pos = self._origin + head

    def restore(self, config: Configuration, steps: int) -> None:
        """Continue from ``config``, reached after ``steps`` transitions (a resumed run)."""
        self._row = self.states.index(config.state) * ROW
        self._place(config.tape, config.head)
        self.halted = config.halted
        self.steps = steps

    # --------------------------------------------------------------- state as the machine's terms

    @property
    def state(self) -> State:
        return self.states[self._row // ROW]

    @property
    def head(self) -> int:
        return self._pos - self._origin

    def symbol(self, position: int) -> Symbol:
        """The symbol in a cell (blank outside the written part)."""
        k = position + self._origin
        if 0 < k < len(self._tape) - 1:
            return self.symbols[self._tape[k]]
        return self.symbols[0]

    def config(self) -> Configuration:
        """The full configuration (an O(tape) copy: for reports and checks, not the hot loop)."""
        t, o = self._tape, self._origin
        tape = {k - o: self.symbols[c] for k, c in enumerate(t) if c and c != SENTINEL}
        return Configuration(self.state, self.head, tape, self.halted)

    # --------------------------------------------------------------- running

    def step(self) -> bool:
        """Make one transition. False (and ``halted``) when no rule applies."""
        before = self.steps
        self.run(1)
        return self.steps > before

    def run(self, max_steps: int) -> Outcome:
        """Run at most ``max_steps`` more transitions, or until the machine halts."""
        if self.halted or max_steps <= 0:
            return self._outcome()
        left = max_steps
        while left:
            done, stopped = self._burst(left)
            left -= done
            if not stopped:
                break
            if self._tape[self._pos] == SENTINEL:
                self._grow()
            else:
                self.halted = True
                break
        if not self.halted and self.machine.is_halting(self.state):
            self.halted = True  # entered a halting state: no rule can ever apply
        return self._outcome()

    def _burst(self, limit: int) -> tuple[int, bool]:
        """The hot loop: up to ``limit`` transitions; True if it stopped on a ``None`` transition."""
        tape, trans = self._tape, self.trans
        pos, row = self._pos, self._row
        n = 0
        stopped = False
        for n in range(limit):
            t = trans[row + tape[pos]]
            if t is None:
                stopped = True
                break
            tape[pos], move, row = t
            pos += move
        else:
            n = limit
        self._pos, self._row = pos, row
        self.steps += n
        if n and self.machine.is_halting(self.state):
            self.halted = True
            stopped = False
        return n, stopped

    def _grow(self) -> None:
        """The head reached a sentinel: double the tape on that side."""
        t = self._tape
        extra = max(len(t), 64)
        if self._pos == 0:
            t[0] = 0
            self._tape = bytearray([SENTINEL]) + bytearray(extra) + t
            self._origin += extra + 1
            self._pos += extra + 1
        else:
            self._tape = t[:-1] + bytearray([0]) + bytearray(extra) + bytearray([SENTINEL])

    def _outcome(self) -> Outcome:
        return Outcome("halted" if self.halted else "step-limit", self.steps, self.config())


def simulate(machine: TuringMachine, max_steps: int) -> Outcome:
    """Run a machine from its initial tape until it halts or ``max_steps`` transitions."""
    return Reference(machine).run(max_steps)
