"""The memory and the harness that moves strings between it and the CPU.

Memory is a dict from string labels to values: strings, or integers for counters (the head
``i``). Tape cells are keyed by their decimal position (``"17"``, ``"-3"``); a cell never written
reads as the blank. The harness is regular expressions and dictionary look-ups only:

* **read**: replace every ``@[label]`` in the instruction by the label's value, and repeat while
  any remain, up to a declared depth (``@[@[i]]`` -> ``@[17]`` -> ``1`` needs two passes);
* **write**: parse the completion into assignments ``label="value"`` and updates ``label+=n`` /
  ``label-=n``; replace every ``%[label]`` in them by its stored value, once (the substituted text is
  data, never parsed again: that is how ``op="%[B]"`` copies instruction B's raw text, quotes and
  all); then apply them in order. A step applies completely or not at all.

What the CPU may write is a :class:`Policy`: by default the instruction register, the head and
tape cells. Nothing here knows what a Turing machine is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Union

import regex

from llmvm.errors import CompletionError, ReadError

Address = str
Value = Union[str, int]
Memory = dict[Address, Value]

HALT = "halt"  # the value of the instruction register that stops the machine
LABEL = r"[A-Za-z0-9_\-]{1,64}"
READ = regex.compile(rf"@\[({LABEL})\]")
CELL = regex.compile(r"-?(?:0|[1-9][0-9]{0,17})")
# a write target: a label, or %[label] (the label named by a stored value, e.g. %[i] = the head cell)
_TARGET = rf"(?:%\[(?P<ref>{LABEL})\]|(?P<label>{LABEL}))"
_ITEM = regex.compile(
    rf'{_TARGET}(?:="(?P<value>[^"]*)"|(?P<op>\+=|-=)(?P<delta>[0-9]{{1,9}}))(?=\s|\Z)'
)
_REF = regex.compile(rf"%\[({LABEL})\]")
_SPACE = regex.compile(r"\s+")


# --------------------------------------------------------------------------- parsed completions


@dataclass(frozen=True, slots=True)
class Target:
    """Where a write goes: a literal label, or (``indirect``) the label stored under ``name``."""

    name: Address
    indirect: bool = False


@dataclass(frozen=True, slots=True)
class Assign:
    """``target="value"``: ``pieces`` alternate literal text and ``%[label]`` references."""

    target: Target
    pieces: tuple[str | Target, ...]


@dataclass(frozen=True, slots=True)
class Update:
    """``target+=n`` or ``target-=n`` on an integer counter."""

    target: Target
    delta: int


Op = Assign | Update


def parse(completion: str) -> tuple[Op, ...]:
    """Parse a completion into its writes, or raise CompletionError naming what is wrong."""
    ops: list[Op] = []
    pos = _skip_space(completion, 0)
    while pos < len(completion):
        m = _ITEM.match(completion, pos)
        if m is None:
            snippet = completion[pos : pos + 40]
            raise CompletionError(
                f"cannot parse the completion at character {pos}: {snippet!r} is not "
                'an assignment label="value" or an update label+=n / label-=n'
            )
        target = Target(m["ref"], True) if m["ref"] else Target(m["label"])
        if m["op"]:
            delta = int(m["delta"])
            ops.append(Update(target, delta if m["op"] == "+=" else -delta))
        else:
            ops.append(Assign(target, _pieces(m["value"])))
        pos = _skip_space(completion, m.end())
    if not ops:
        raise CompletionError("the completion is empty: expected at least one assignment or update")
    return tuple(ops)


def _skip_space(text: str, pos: int) -> int:
    m = _SPACE.match(text, pos)
    return m.end() if m else pos


def _pieces(value: str) -> tuple[str | Target, ...]:
    """Split a value into literal text and %[label] references."""
    out: list[str | Target] = []
    last = 0
    for m in _REF.finditer(value):
        if m.start() > last:
            out.append(value[last : m.start()])
        out.append(Target(m[1]))
        last = m.end()
    if last < len(value) or not out:
        out.append(value[last:])
    return tuple(out)


# --------------------------------------------------------------------------- write policy


@dataclass(frozen=True)
class Policy:
    """What a completion may write. Anything not allowed here is refused and changes nothing.

    ``registers`` maps each assignable non-cell label to its allowed values (None = any string);
    ``counters`` may only be updated with ``+=``/``-=`` and stay within ``max_counter`` of 0 (a
    counter names a cell); tape cells may take ``cell_values`` (None = any string). No value may
    exceed ``max_value`` characters, and no completion may make more than ``max_writes`` writes.
    """

    registers: Mapping[Address, frozenset[str] | None] = field(default_factory=lambda: {"op": None})
    counters: frozenset[Address] = frozenset({"i"})
    cell_values: frozenset[str] | None = None
    max_value: int = 1 << 16
    max_writes: int = 64
    max_counter: int = 10**18 - 1  # the largest cell label has 18 digits

    def check_assign(self, label: Address, value: str) -> None:
        if len(value) > self.max_value:
            raise CompletionError(f"refused: a value of {len(value)} characters for {label!r} (limit {self.max_value})")
        if CELL.fullmatch(label):
            allowed = self.cell_values
        elif label in self.registers:
            allowed = self.registers[label]
        else:
            raise CompletionError(
                f"refused: the program does not allow writing {label!r} "
                f"(writable: tape cells, {', '.join(sorted(self.registers))})"
            )
        if allowed is not None and value not in allowed:
            shown = value if len(value) < 60 else value[:57] + "..."
            raise CompletionError(f"refused: {shown!r} is not a value the program allows for {label!r}")

    def check_update(self, label: Address) -> None:
        if label not in self.counters:
            raise CompletionError(
                f"refused: {label!r} is not a counter (counters: {', '.join(sorted(self.counters))})"
            )

    def check_counter(self, label: Address, value: int) -> None:
        """A counter's new value must still name a cell."""
        if abs(value) > self.max_counter:
            raise CompletionError(f"refused: {label!r} would be {value}, beyond the last cell (±{self.max_counter})")

    def check_writes(self, n: int) -> None:
        if n > self.max_writes:
            raise CompletionError(f"refused: {n} writes in one completion (limit {self.max_writes})")


# --------------------------------------------------------------------------- the harness


class Harness:
    """Reads instructions into prompts and writes completions into memory."""

    def __init__(self, blank: str, *, depth: int = 2, policy: Policy | None = None):
        self.blank = blank
        self.depth = depth  # declared bound on @[...] nesting: the harness stays finite-state
        self.policy = policy or Policy()
        self._parsed: dict[str, tuple[Op, ...]] = {}  # each distinct completion is parsed once

    def value(self, label: Address, memory: Memory) -> str:
        """A label's value as text; an unwritten cell is the blank."""
        v = memory.get(label)
        if v is not None:
            return v if isinstance(v, str) else str(v)
        if CELL.fullmatch(label):
            return self.blank
        raise ReadError(f"unknown label {label!r}: nothing is stored under it")

    # read ------------------------------------------------------------------------------------

    def read(self, instruction: str, memory: Memory) -> str:
        """Expand every @[label] in the instruction, innermost first, at most ``depth`` passes."""
        text = instruction
        for _ in range(self.depth):
            text, n = READ.subn(lambda m: self.value(m[1], memory), text)
            if n == 0:
                return text
        if READ.search(text):
            raise ReadError(f"@[...] reads nest deeper than the declared depth {self.depth}")
        return text

    # write -----------------------------------------------------------------------------------

    def parse(self, completion: str) -> tuple[Op, ...]:
        """Parse a completion (once per distinct text) and check how many writes it makes."""
        ops = self._parsed.get(completion)
        if ops is None:
            ops = parse(completion)
            self.policy.check_writes(len(ops))
            self._parsed[completion] = ops
        return ops

    def write(self, completion: str, memory: Memory) -> tuple[tuple[Address, Value], ...]:
        """Apply a completion to memory, atomically; return the (label, new value) pairs written."""
        staged: dict[Address, Value] = {}
        applied: list[tuple[Address, Value]] = []
        for op in self.parse(completion):
            label = self._target(op.target, memory)
            if isinstance(op, Assign):
                value = "".join(p if isinstance(p, str) else self.value(p.name, memory) for p in op.pieces)
                self.policy.check_assign(label, value)
            else:
                self.policy.check_update(label)
                old = staged.get(label, memory.get(label))
                if not isinstance(old, int):
                    raise CompletionError(f"refused: {label}{'+' if op.delta > 0 else '-'}= on a non-integer value")
                value = old + op.delta
                self.policy.check_counter(label, value)
            staged[label] = value
            applied.append((label, value))
        memory.update(staged)  # only now: a refused completion changed nothing
        return tuple(applied)

    def _target(self, target: Target, memory: Memory) -> Address:
        if not target.indirect:
            return target.name
        label = self.value(target.name, memory)
        if not regex.fullmatch(LABEL, label):
            raise CompletionError(f"%[{target.name}] names {label[:40]!r}, which is not a label")
        return label
