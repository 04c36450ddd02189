"""The accelerated reference: a macro machine on a run-length tape, with whole-run jumps.

Same answers as :mod:`llmvm.reference` — step count, tape, head, state — in far fewer Python steps.
The tape is cut into blocks of ``k`` cells and stored as two stacks of runs ``[block, count]``, one
each side of the head, which always sits *between* blocks facing left or right. A *macro step*
runs the base machine inside one block, from the edge it entered, until it leaves the block (or
halts inside). Its result depends only on (state, block, side), so it is computed once and memoised.
When a macro step leaves the block on the far side in the *same* state, it would do the same on every
copy of that block in a run: the whole run is rewritten and crossed in one jump, its steps counted
by multiplication. That is how BB(5)'s 47 million steps collapse to some thousands of jumps.

Near the step limit, or when a macro step would not terminate inside its block, the configuration
is unpacked into the plain simulator, which finishes the job exactly.
"""

from __future__ import annotations

from dataclasses import replace

from llmvm.program import TuringMachine
from llmvm.reference import ROW, Outcome, Reference

Block = tuple[int, ...]  # k symbol codes
RIGHT, LEFT = 1, -1


class _NoExit(Exception):
    """A macro step that stays inside its block for too long (a loop): hand over to the plain simulator."""


class Accelerated:
    """Run a machine with macro steps of ``block`` cells; ``run()`` returns the reference's Outcome."""

    def __init__(self, machine: TuringMachine, block: int = 3):
        self.machine, self.k = machine, block
        self.ref = Reference(machine)  # for its symbol coding and transition table
        self._macro: dict[tuple[int, Block, int], tuple[Block, int, int, int, int]] = {}
        self.macro_steps = 0

    def run(self, max_steps: int) -> Outcome:
        ref, k = self.ref, self.k
        if ref.halted:
            return ref.run(0)
        head = ref.head
        # cut the initial tape into blocks aligned on the head; blocks left of it, and from it rightwards
        cells = {p: c for p, c in ((p, ref.code[s]) for p, s in self.machine.tape().items())}
        lo = min([*cells, head])
        hi = max([*cells, head])
        first = head - ((head - lo + k - 1) // k) * k
        blocks = [tuple(cells.get(p + j, 0) for j in range(k)) for p in range(first, hi + 1, k)]
        split = (head - first) // k
        left = _runs(blocks[:split])  # nearest block last
        right = _runs(reversed(blocks[split:]))  # nearest block last
        row, facing, steps = self.ref.states.index(ref.state) * ROW, RIGHT, 0
        origin = first + split * k  # cell position of the boundary the head faces from the left
        blank = (0,) * k
        try:
            while True:
                ahead = right if facing == RIGHT else left
                block, count = ahead[-1] if ahead else (blank, None)  # None: the endless blank
                new, new_row, exit_dir, n, inside = self._step(row, block, facing)
                if inside is not None:  # it halts inside this block: let the plain simulator do that part
                    raise _NoExit
                jump = new_row == row and exit_dir == facing
                times = (count if count is not None else None) if jump else 1
                if times is None:  # crossing endless blank in the same state: runs forever
                    raise _NoExit
                if steps + n * times > max_steps:
                    raise _NoExit
                steps += n * times
                self.macro_steps += 1
                _pop(ahead, times)
                behind = left if exit_dir == RIGHT else right
                if exit_dir == facing:
                    _push(behind, new, times)
                    origin += facing * k * times
                else:  # bounced back: the rewritten block is now ahead in the other direction
                    _push(ahead, new, 1)
                    facing = exit_dir
                row = new_row
        except _NoExit:
            return self._finish(left, right, facing, origin, row, steps, max_steps)

    # ------------------------------------------------------------------------------ macro steps

    def _step(self, row: int, block: Block, facing: int) -> tuple[Block, int, int, int, int | None]:
        """(new block, new row, exit direction, base steps, halt position inside or None)."""
        key = (row, block, facing)
        hit = self._macro.get(key)
        if hit is None:
            hit = self._macro[key] = self._simulate(row, block, facing)
        return hit

    def _simulate(self, row: int, block: Block, facing: int) -> tuple[Block, int, int, int, int | None]:
        trans, k = self.ref.trans, self.k
        cells = list(block)
        pos = 0 if facing == RIGHT else k - 1
        limit = len(self.ref.states) * k * (len(self.ref.symbols) ** k) + 1  # more means a loop
        for n in range(limit):
            t = trans[row + cells[pos]]
            if t is None:  # no rule (or a halting state): the machine halts inside the block
                return tuple(cells), row, 0, n, pos
            cells[pos], move, row = t
            pos += move
            if not 0 <= pos < k:
                return tuple(cells), row, RIGHT if pos >= k else LEFT, n + 1, None
        raise _NoExit

    # ------------------------------------------------------------------------------ hand-over

    def _finish(self, left, right, facing, origin, row, steps, max_steps) -> Outcome:
        """Unpack the run-length tape into a plain Reference and let it finish exactly."""
        tape: dict[int, str] = {}
        symbols = self.ref.symbols
        p = origin
        for block, count in reversed(left):  # nearest first, walking left
            for _ in range(count):
                p -= self.k
                for j, c in enumerate(block):
                    if c:
                        tape[p + j] = symbols[c]
        p = origin
        for block, count in reversed(right):  # nearest first, walking right
            for _ in range(count):
                for j, c in enumerate(block):
                    if c:
                        tape[p + j] = symbols[c]
                p += self.k
        head = origin if facing == RIGHT else origin - 1
        lo = min([*tape, head])
        cells = tuple(tape.get(q, symbols[0]) for q in range(lo, max([*tape, head]) + 1))
        state = self.ref.states[row // ROW]
        machine = replace(self.machine.with_input(cells, head - lo), start=state)
        plain = Reference(machine)
        plain.steps = steps
        out = plain.run(max_steps - steps)
        shifted = {q + lo: s for q, s in out.config.tape.items()}
        return Outcome(out.status, out.steps, replace(out.config, head=out.config.head + lo, tape=shifted))


def _runs(blocks) -> list[list]:
    runs: list[list] = []
    for b in blocks:
        if runs and runs[-1][0] == b:
            runs[-1][1] += 1
        else:
            runs.append([b, 1])
    return runs


def _pop(stack: list[list], times: int) -> None:
    if not stack:
        return  # the endless blank: nothing stored to take
    top = stack[-1]
    if top[1] == times:
        stack.pop()
    else:
        top[1] -= times


def _push(stack: list[list], block: Block, times: int) -> None:
    if stack and stack[-1][0] == block:
        stack[-1][1] += times
    elif any(block) or stack:  # blank blocks beyond the written part need not be stored
        stack.append([block, times])


def simulate(machine: TuringMachine, max_steps: int, block: int = 3) -> Outcome:
    """Like reference.simulate, accelerated."""
    return Accelerated(machine, block).run(max_steps)
