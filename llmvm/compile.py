"""The compiler: a Turing machine and a prompt dialect -> a memory image.

The image stores the few-shot prefix under ``boot``, one instruction text per (non-halting) state
under the state's label, the start state's text in the instruction register ``op``, the head in
``i`` and the input in the tape cells. It also keeps what the checkers need to read the memory
back as a Turing machine configuration, and the write policy that confines the CPU to what the
program allows (``op`` may only hold an instruction text or ``halt``; cells only symbols).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Mapping

import regex

from llmvm.dialect import Dialect
from llmvm.errors import ProgramError
from llmvm.memory import CELL, HALT, LABEL, Harness, Memory, Policy
from llmvm.program import MOVE_NAMES, Configuration, State, Symbol, TuringMachine

RESERVED = {"op", "i", "boot", HALT}
_SYMBOL_OK = regex.compile(r'[^"\[\]@%=\n\r]{1,32}')


@dataclass(frozen=True)
class Case:
    """One answer the program expects: in ``state`` reading any of ``symbols``, answer ``answer``."""

    state: State
    symbols: tuple[Symbol, ...]
    answer: str


@dataclass(frozen=True)
class Image:
    """A compiled program: initial memory plus everything needed to run and check it."""

    machine: TuringMachine
    dialect: Dialect
    labels: Mapping[State, str]  # state -> the memory label of its instruction
    instructions: Mapping[State, str]  # state -> instruction text (non-halting states; halting ones hold "halt")
    cases: tuple[Case, ...]

    def memory(self) -> Memory:
        """A fresh copy of the initial memory."""
        m: Memory = {"boot": self.dialect.boot}
        for state, text in self.instructions.items():
            m[self.labels[state]] = text
        for state in self.machine.states:
            if self.machine.is_halting(state):
                m[self.labels[state]] = HALT  # entering it copies "halt" into op: the machine stops
        start = self.machine.start
        m["op"] = HALT if self.machine.is_halting(start) else self.instructions[start]
        m["i"] = self.machine.head
        for pos, sym in self.machine.tape().items():
            m[str(pos)] = sym
        return m

    def harness(self) -> Harness:
        """The read/write harness, with a policy that lets the CPU write only what the program can."""
        policy = Policy(
            registers={"op": frozenset(self.instructions.values()) | {HALT}},
            counters=frozenset({"i"}),
            cell_values=frozenset(self.machine.symbols),
        )
        return Harness(self.machine.blank, depth=self.dialect.read_depth, policy=policy)

    @cached_property
    def state_of(self) -> Mapping[str, State]:
        """Instruction text -> state (what the instruction register says the machine is in)."""
        return {text: state for state, text in self.instructions.items()}

    def decode(self, memory: Memory, *, last_state: State | None = None) -> Configuration:
        """Read a memory back as a Turing machine configuration (O(memory): for checks and reports)."""
        op = memory["op"]
        halted = op == HALT
        state = last_state if halted and last_state else self.state_of.get(op, "?")  # type: ignore[arg-type]
        blank = self.machine.blank
        tape = {int(k): v for k, v in memory.items() if CELL.fullmatch(k) and v != blank}
        return Configuration(state, int(memory["i"]), tape, halted)  # type: ignore[arg-type]


def compile_machine(machine: TuringMachine, dialect: Dialect) -> Image:
    """Compile a machine into a memory image in the given dialect."""
    for sym in machine.symbols:
        if not _SYMBOL_OK.fullmatch(sym):
            raise ProgramError(
                f"{machine.source}: symbol {sym!r} cannot appear in a prompt or an answer "
                '(no quotes, brackets, @, %, = or newlines; at most 32 characters)'
            )
    labels = _labels(machine)
    instructions: dict[State, str] = {}
    cases: list[Case] = []
    for state in machine.states:
        if machine.is_halting(state):
            continue
        answers = {s: _answer(machine, dialect, labels, state, s) for s in machine.symbols}
        instructions[state] = _instruction(dialect, machine.symbols, answers)
        if len(set(answers.values())) == 1 and dialect.uniform is not None:
            cases.append(Case(state, machine.symbols, answers[machine.symbols[0]]))
        else:
            cases.extend(Case(state, (s,), a) for s, a in answers.items())
    return Image(machine, dialect, labels, instructions, tuple(cases))


def _labels(machine: TuringMachine) -> dict[State, str]:
    """Each state's memory label: its own name when that is a safe label, else q<index>."""
    labels: dict[State, str] = {}
    taken = set(RESERVED)
    for k, state in enumerate(machine.states):
        name = state
        if not regex.fullmatch(LABEL, name) or CELL.fullmatch(name) or name in taken:
            name = f"q{k}"
            while name in taken or name in machine.states:
                name += "_"
        taken.add(name)
        labels[state] = name
    return labels


def _answer(machine: TuringMachine, dialect: Dialect, labels: Mapping[State, str], state: State, symbol: Symbol) -> str:
    rule = machine.rule(state, symbol)
    if rule is None:
        return dialect.render_answer("", "S", None)  # no rule: halt
    move = MOVE_NAMES[rule.move]
    if move not in dialect.moves:
        raise ProgramError(f"{machine.source}: state {state!r}, symbol {symbol!r}: dialect {dialect.name} has no move {move}")
    return dialect.render_answer(rule.write, move, labels[rule.next])


def _instruction(dialect: Dialect, symbols: Iterable[Symbol], answers: Mapping[Symbol, str]) -> str:
    symbols = list(symbols)
    if len(set(answers.values())) == 1 and dialect.uniform is not None:
        return dialect.uniform.format(answer=answers[symbols[0]])
    first, rest = symbols[0], symbols[1:]
    parts = [dialect.first_case.format(symbol=first, answer=answers[first])]
    parts += [dialect.case.format(symbol=s, answer=answers[s]) for s in rest]
    return dialect.instruction.format(cases="".join(parts))
