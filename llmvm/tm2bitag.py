"""Any Turing machine -> a bi-tag system that simulates it, and the way back for the result.

The bi-tag word is read as a *circular tape* (Neary & Woods' clockwise machine, Lemma 2.1/2.2):
the A-symbols are cells, the one E-symbol sits between two cells and carries the machine's state.
An active step ``e a -> a_k [a_l] e_m`` consumes the cell clockwise of e and writes one or two cells
in its place, so e only ever moves clockwise; passive steps just turn the circle.

The layout: the circle holds the used tape ``t_1 .. t_n`` and one boundary cell ``end`` (where the
blank tails on both sides meet). The cell under the Turing machine's head is *held* in the
E-symbol, not on the circle:

    H(q, s)   state q, head on a cell holding s; e sits between the head's two neighbours
    H(q, end) state q, head on the blank left of t_1 (the boundary cell is held, not on the circle)
    C(q, c)   a left move in progress: going round the circle carrying c (each cell moves one
              step clockwise); the cell written by the move is *marked* and ends the trip

Right move: write w, take the next cell as the new head cell (one step; at the boundary the tape
grows by a blank, going once round). Left move: write w marked, go round with a carry; arriving at
the marked cell, the carried cell is the one left of it: the new head cell. A halt writes the head
cell back with a head mark naming the halting state, and the halting symbol goes round to the front.
Stay moves are first rewritten as a right move and a left move.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Mapping

import regex

from llmvm.bitag import BiTag, Name, Word
from llmvm.errors import ProgramError
from llmvm.program import Configuration, Rule, State, Symbol, TuringMachine

END, END_M = "end", "end*"  # the boundary cell, and marked
CARRY_END_M = ("end", "marked")  # what C(q, .) carries while the tape grows on the right
HALT = "halt"
_PLAIN = regex.compile(r"[A-Za-z0-9]+")


@dataclass(frozen=True)
class Legend:
    """How to read a halting word as the machine's result: which cell name is which symbol."""

    blank: Symbol
    cells: Mapping[Name, Symbol]  # plain cell -> tape symbol
    heads: Mapping[Name, tuple[State, Symbol | None]]  # head mark -> (halting state, symbol or None)

    def to_data(self) -> dict[str, Any]:
        return {"blank": self.blank, "cells": dict(self.cells),
                "heads": {k: [q, s] for k, (q, s) in self.heads.items()}}

    @classmethod
    def from_data(cls, data: Any, where: str) -> "Legend":
        try:
            heads = {str(k): (str(v[0]), None if v[1] is None else str(v[1])) for k, v in data["heads"].items()}
            return cls(str(data["blank"]), {str(k): str(v) for k, v in data["cells"].items()}, heads)
        except (KeyError, TypeError, IndexError, AttributeError):
            raise ProgramError(f"{where}: 'legend' must have blank, cells {{name: symbol}} and "
                               f"heads {{name: [state, symbol]}}") from None


@dataclass(frozen=True)
class Compiled:
    """A bi-tag system that simulates a Turing machine, with the legend to read its result."""

    system: BiTag
    legend: Legend


@dataclass(frozen=True)
class Result:
    """A halted machine's state, tape and head, up to translation: cell 0 is the leftmost cell
    that is written or under the head (the circle does not record how far the tape grew left)."""

    state: State
    cells: tuple[Symbol, ...]
    head: int

    @classmethod
    def of(cls, config: Configuration, blank: Symbol) -> "Result":
        """The same view of a configuration from direct simulation."""
        used = [p for p, s in config.tape.items() if s != blank] + [config.head]
        lo, hi = min(used), max(used)
        return cls(config.state, tuple(config.tape.get(p, blank) for p in range(lo, hi + 1)), config.head - lo)

    def describe(self, blank: Symbol) -> str:
        cells = [f"[{s}]" if p == self.head else s for p, s in enumerate(self.cells)]
        return f"state {self.state}, head on cell {self.head}: {' '.join(cells) or blank}"


class _Names:
    """Readable, collision-free names for cells and control symbols."""

    def __init__(self, machine: TuringMachine):
        # a machine's own names where they cannot clash with the construction's ("end" for the boundary)
        plain = all(_PLAIN.fullmatch(x) for x in (*machine.symbols, *machine.states)) and "end" not in machine.symbols
        self.sym = {s: (s if plain else f"{k}") for k, s in enumerate(machine.symbols)}
        self.state = {q: (q if plain else f"q{k}") for k, q in enumerate(machine.states)}

    def cell(self, s: Symbol | None, kind: str = "c") -> Name:
        """A cell: c (plain) or m (marked) with a symbol, or the boundary (s is None)."""
        if s is None:
            return END if kind == "c" else END_M
        return f"{kind}.{self.sym[s]}"

    def head(self, q: State, s: Symbol | None) -> Name:
        """The cell left by a halt in state q: head on s (or on the blank left of t_1)."""
        return f"h.{self.state[q]}.{'end' if s is None else self.sym[s]}"

    def control(self, kind: str, q: State, c: Symbol | tuple | None) -> Name:
        held = "end" if c is None else ("end*" if c == CARRY_END_M else self.sym[c])
        return f"{kind}.{self.state[q]}.{held}"


def compile_machine(machine: TuringMachine) -> Compiled:
    """The bi-tag system (reachable part only) whose run simulates ``machine`` from its input."""
    tm = _without_stays(machine)
    names = _Names(tm)
    lo = min([tm.head, *tm.tape()] or [0])
    hi = max([tm.head, *tm.tape()] or [0])
    cells = [tm.tape().get(p, tm.blank) for p in range(lo, hi + 1)]
    k = tm.head - lo
    start = (names.control("H", tm.start, cells[k]),
             *(names.cell(s) for s in cells[k + 1:]), END, *(names.cell(s) for s in cells[:k]))
    productions = _reachable(tm, names, start)
    A, E = _order(productions, start)
    never = (A[0], E[0])  # for pairs that never meet: the cheapest production to encode
    table = {(e, a): productions.get((e, a), never) for e in E[:-1] for a in A}
    legend = Legend(tm.blank, {names.cell(x): x for x in tm.symbols},
                    {names.head(q, x): (q, x) for q in tm.states for x in (*tm.symbols, None)
                     if names.head(q, x) in A})
    system = BiTag(f"{machine.name} (bi-tag)", tuple(A), tuple(E), table, start,
                   description=f"simulates the Turing machine {machine.name!r} ({machine.source})",
                   source=f"compiled from {machine.source}", legend=legend.to_data())
    return Compiled(system, legend)


def decode(legend: Legend, word: Word) -> Result:
    """The Turing machine's final state, tape and head from the bi-tag system's halting word."""
    if not word or word[0] != HALT:
        raise ProgramError(f"not a halting word: it must start with {HALT!r}: {' '.join(word)}")
    circle = list(word[1:])
    marks = [i for i, x in enumerate(circle) if x in legend.heads]
    if len(marks) != 1 or circle.count(END) > 1:
        raise ProgramError(f"a halting word holds one head mark and at most one boundary: {' '.join(word)}")
    i = marks[0]
    q, s = legend.heads[circle[i]]
    blank_cell = next(k for k, v in legend.cells.items() if v == legend.blank)
    if s is None:  # halted on the blank left of t_1, where the boundary was held
        cells, head = [blank_cell] + circle[i + 1:] + circle[:i], 0
    else:
        if END not in circle:
            raise ProgramError(f"the halting word has no boundary cell: {' '.join(word)}")
        j = circle.index(END)
        cells = circle[j + 1:] + circle[:j]
        head = cells.index(circle[i])
        cells[head] = next(k for k, v in legend.cells.items() if v == s)
    unknown = sorted(set(cells) - set(legend.cells))
    if unknown:
        raise ProgramError(f"the halting word holds {unknown} where only plain cells belong")
    tape = {p: legend.cells[x] for p, x in enumerate(cells) if legend.cells[x] != legend.blank}
    return Result.of(Configuration(q, head, tape, True), legend.blank)


# ----------------------------------------------------------------------------- the productions


def _reachable(tm: TuringMachine, names: _Names, start: Word) -> dict[tuple[Name, Name], Word]:
    """Productions for every (control, cell) pair that can meet, found by closing over the start."""
    rules = _rules(tm, names)
    controls, cells = {start[0]}, set(start[1:])
    out: dict[tuple[Name, Name], Word] = {}
    grown = True
    while grown:
        grown = False
        for e in sorted(controls - {HALT}):
            for a in sorted(cells):
                if (e, a) in out or (e, a) not in rules:
                    continue
                rhs = out[e, a] = rules[e, a]
                new_cells, new_control = set(rhs[:-1]) - cells, rhs[-1] not in controls
                cells |= new_cells
                controls.add(rhs[-1])
                grown |= bool(new_cells) or new_control
    return out


def _order(productions: dict[tuple[Name, Name], Word], start: Word) -> tuple[list[Name], list[Name]]:
    """Alphabets in the order that makes the U15,2 tape shortest: an A-symbol's code grows with its
    index, a production's image with its E-symbol's index, so the most used come first."""
    uses: Counter[Name] = Counter(start)
    for (e, a), rhs in productions.items():
        uses.update((e, a, *rhs))
    by_use = sorted(uses, key=lambda x: (-uses[x], x))
    cells = {a for _, a in productions} | {x for rhs in productions.values() for x in rhs[:-1]} | set(start[1:])
    return [x for x in by_use if x in cells], [x for x in by_use if x not in cells and x != HALT] + [HALT]


def _rules(tm: TuringMachine, names: _Names) -> dict[tuple[Name, Name], Word]:
    """Every production that can ever matter, keyed by (control, cell)."""
    out: dict[tuple[Name, Name], Word] = {}
    reads: list[Symbol | None] = [*tm.symbols, None]  # a cell's symbol, or the boundary
    for q in tm.states:
        for c in tm.symbols:  # the head's cell, next cell y
            for y in reads:
                out[names.control("H", q, c), names.cell(y)] = _act(tm, names, q, c, y)
        for c in (*tm.symbols, None):  # a left move arrives: the carried cell is the head's
            for y in reads:
                if c is not None or y is not None:  # the boundary is on the circle or held, not both
                    out[names.control("C", q, c), names.cell(y, "m")] = _act(tm, names, q, c, y)
        for c in (*tm.symbols, None, CARRY_END_M):  # carrying a cell
            for y in reads:
                back = END_M if c == CARRY_END_M else names.cell(c)
                out[names.control("C", q, c), names.cell(y)] = (back, names.control("C", q, y))
    return out


def _act(tm: TuringMachine, names: _Names, q: State, c: Symbol | None, y: Symbol | None) -> Word:
    """The machine in state q, head on c (None: the blank left of t_1), next cell y: one step."""
    rule = tm.rule(q, tm.blank if c is None else c)
    if rule is None:  # halt: put the head cell back, marked with the halting state
        return (names.head(q, c), names.cell(y), HALT)
    w = rule.write
    if c is None:  # on the blank left of the tape: it becomes a real cell
        if rule.move > 0:
            return (END, names.cell(w), names.control("H", rule.next, y))
        return (END, names.cell(w, "m"), names.control("C", rule.next, y))
    if rule.move < 0:
        return (names.cell(w, "m"), names.control("C", rule.next, y))
    if y is None:  # right off the end: add a blank and go round once to stand on it
        return (names.cell(w), names.cell(tm.blank), names.control("C", rule.next, CARRY_END_M))
    return (names.cell(w), names.control("H", rule.next, y))


def _without_stays(tm: TuringMachine) -> TuringMachine:
    """Rewrite each stay (move 0) as a right move to a fresh state that steps back left."""
    stays = {r.next for rules in tm.table.values() for r in rules.values() if r.move == 0}
    if not stays:
        return tm
    back = {q: _fresh(f"{q}back", tm.states) for q in stays}
    table = {q: {s: (replace(r, move=1, next=back[r.next]) if r.move == 0 else r) for s, r in rules.items()}
             for q, rules in tm.table.items()}
    for q, b in back.items():
        table[b] = {s: Rule(s, -1, q) for s in tm.symbols}
    return replace(tm, table=table, states=(*tm.states, *back.values()))


def _fresh(name: str, taken: Iterable[str]) -> str:
    taken = set(taken)
    while name in taken:
        name += "x"
    return name
