"""Replaying known cycles: the same machine, without redoing work whose result cannot change.

Under greedy decoding with a memo, a cycle is a function of the prompt, and for the instructions a
compiler produces the prompt is a function of just two things: the instruction text in ``op`` and
the symbol under the head (``@[@[i]]``; every other read is of a label the policy makes read-only).
The answer's writes are head-relative (``op="%[B]" %[i]="0" i+=1``). So the first time a pair
(instruction, symbol) occurs, the cycle runs in full — read, CPU, parse, substitute, policy checks —
and its *effect* is recorded: (new ``op`` text, symbol written under the head, head move). Every
later occurrence applies the recorded effect directly. An instruction or an answer of any other
shape is never recorded and always runs in full.

Exactness rests on two checks made once per recording, not per cycle: the instruction's reads are
of the shape above (``plan``), and the answer's writes are (``effect``); both are compared with the
full harness on the spot. The differential tests run every program both ways.
"""

from __future__ import annotations

from typing import Optional

import regex

from llmvm.errors import CompletionError
from llmvm.memory import CELL, LABEL, READ, Assign, Harness, Memory, Target, Update
from llmvm.vm import VM

Symbol = str
Effect = tuple[Optional[str], Optional[Symbol], int]  # (new op text | None, symbol written at head | None, move)

_AT = regex.compile(rf"@\[@\[({LABEL})\]\]")  # @[@[p]]: the value of the cell that p points at
_UNSAFE = ("@", "[", "]")


def pointer_of(instruction: str, harness: Harness, memory: Memory) -> str | None:
    """The counter whose cell is the only thing the instruction's prompt depends on, or None.

    None means: no plan, always run this instruction in full. An instruction with no dynamic read
    at all is keyed by the head's symbol too (a finer key than needed, still exact).
    """
    policy = harness.policy
    if policy.cell_values is None or any(c in s for s in policy.cell_values for c in _UNSAFE):
        return None  # a cell could hold text that a second read pass would expand
    pointers = set(_AT.findall(instruction))
    if len(pointers) > 1 or not pointers <= policy.counters or (pointers and harness.depth < 2):
        return None
    rest = _AT.sub("\x00", instruction)
    for m in READ.finditer(rest):
        label = m[1]
        value = memory.get(label)
        writable = label in policy.registers or label in policy.counters or CELL.fullmatch(label)
        # a static value must not be able to form a new "@[" with the text around it
        if writable or not isinstance(value, str) or "@[" in value or value.startswith("[") or value.endswith("@"):
            return None
    if "@[" in READ.sub("", rest):
        return None  # a stray "@[" that a substitution might complete
    if pointers:
        return pointers.pop()
    return min(policy.counters) if policy.counters else None  # no dynamic read: any counter's cell will do


def effect(harness: Harness, completion: str, memory: Memory, pointer: str) -> Effect | None:
    """The completion's writes as a head-relative effect, checked by the policy; None if not of that shape."""
    op_text: str | None = None
    write: Symbol | None = None
    move = 0
    for op in harness.parse(completion):
        t = op.target
        if isinstance(op, Update):
            if t != Target(pointer):
                return None
            harness.policy.check_update(pointer)
            move += op.delta
            continue
        assert isinstance(op, Assign)
        if any(isinstance(p, Target) and _dynamic(p.name, harness) for p in op.pieces):
            return None
        value = "".join(p if isinstance(p, str) else harness.value(p.name, memory) for p in op.pieces)
        if t == Target(pointer, indirect=True):
            harness.policy.check_assign(str(memory[pointer]), value)
            write = value
        elif t == Target("op"):
            harness.policy.check_assign("op", value)
            op_text = value
        else:
            return None
    return op_text, write, move


def _dynamic(label: str, harness: Harness) -> bool:
    p = harness.policy
    return label in p.registers or label in p.counters or bool(CELL.fullmatch(label))


class FastPath:
    """Recorded effects per (instruction, symbol), and the loop that replays them."""

    def __init__(self, vm: VM):
        self.vm = vm
        self.memory, self.harness, self.cpu = vm.memory, vm.harness, vm.cpu
        # instruction text -> (pointer counter, {symbol: effect, or None = always in full});
        # None for the whole instruction = never replay it
        self.known: dict[str, tuple[str, dict[Symbol, Effect | None]] | None] = {}
        self.replayed = 0
        self.last_instruction: str | None = None  # the instruction of the last replayed cycle

    def advance(self, limit: int) -> int:
        """Replay up to ``limit`` cycles; stop at the first pair not yet recorded (or at halt)."""
        memory, known, blank, text = self.memory, self.known, self.harness.blank, str
        done = 0
        last = None
        while done < limit:
            op = memory["op"]
            entry = known.get(op)
            if entry is None:
                break
            pointer, table = entry
            head = memory[pointer]
            cell = text(head)
            e = table.get(memory.get(cell, blank))  # type: ignore[arg-type]  # missing or None: run in full
            if e is None:
                break
            new_op, write, move = e
            if write is not None:
                memory[cell] = write
            if move:
                memory[pointer] = head + move  # type: ignore[operator]
            if new_op is not None:
                memory["op"] = new_op
            done += 1
            last = op
        if done:
            self.replayed += done
            self.vm.cycle += done
            self.last_instruction = last
        return done

    def learn(self) -> None:
        """Record the effect of the cycle about to run (call it before running that cycle in full).

        Asks the CPU for the prompt the full cycle is about to send: with a memo in front of a
        deterministic CPU, the full cycle then gets the same answer without a second real call.
        """
        memory, harness = self.memory, self.harness
        instruction = memory["op"]
        if instruction not in self.known:
            pointer = pointer_of(instruction, harness, memory)
            self.known[instruction] = None if pointer is None else (pointer, {})
        entry = self.known[instruction]
        if entry is None:
            return
        pointer, table = entry
        symbol = harness.value(str(memory[pointer]), memory)
        if symbol in table:
            return
        try:
            prompt = harness.read(instruction, memory)
            text = self.cpu.complete(prompt).text
            e = effect(harness, text, memory, pointer)
        except CompletionError:
            e = None  # the full cycle will meet the same problem and report it with its context
        if e is not None and not self._agrees(e, text, pointer):
            raise AssertionError(f"fast path disagrees with the harness on {text!r}")  # a bug, never input
        table[symbol] = e  # None: this answer is not head-relative; the pair always runs in full

    def _agrees(self, e: Effect, completion: str, pointer: str) -> bool:
        """Apply the effect and the full write to copies of memory: they must be identical."""
        full, fast = dict(self.memory), dict(self.memory)
        self.harness.write(completion, full)
        new_op, write, move = e
        head = fast[pointer]
        if write is not None:
            fast[str(head)] = write
        fast[pointer] = head + move  # type: ignore[operator]
        if new_op is not None:
            fast["op"] = new_op
        return full == fast
