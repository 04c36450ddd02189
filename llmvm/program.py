"""Turing machine programs: the data type, and loading it from YAML or compact notation.

Two source forms are accepted, and validated once, here, so nothing downstream re-checks:

* the YAML format of turingmachine.io (``input``, ``blank``, ``start state``, ``table`` with the
  ``L``/``R``/``write`` shorthand and list keys such as ``[0, 1]: R``), plus llmvm's own keys
  (``name``, ``description``, ``symbols``, ``head``, ``expect``);
* the compact one-line notation of the busy-beaver community, ``1RB1LB_1LA1RZ``, either as a YAML
  ``table:`` string or directly on the command line.

Every error names the file, the line, and the state and symbol involved.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import regex
import yaml

from llmvm.errors import ProgramError

State = str
Symbol = str
Move = int  # -1 = left (L), 0 = stay (S), +1 = right (R)

MOVES: Mapping[str, Move] = MappingProxyType({"L": -1, "R": +1, "S": 0})
MOVE_NAMES: Mapping[Move, str] = MappingProxyType({v: k for k, v in MOVES.items()})

COMPACT = regex.compile(r"(?:[^\s_]{3})+(?:_(?:[^\s_]{3})+)*")


@dataclass(frozen=True, slots=True)
class Rule:
    """What a machine does on one (state, symbol): write, move, and go to the next state."""

    write: Symbol
    move: Move
    next: State


@dataclass(frozen=True)
class TuringMachine:
    """A validated single-tape Turing machine with its initial tape.

    ``table[state][symbol]`` is the rule; a missing entry means the machine halts there. States
    with no rules at all are *halting states*: entering one ends the run after that transition.
    """

    name: str
    blank: Symbol
    start: State
    states: tuple[State, ...]  # in source order, halting states included
    symbols: tuple[Symbol, ...]  # the blank first, then the others sorted
    table: Mapping[State, Mapping[Symbol, Rule]]
    input: tuple[Symbol, ...] = ()  # cells 0, 1, 2, ... before the run
    head: int = 0
    description: str = ""
    source: str = "<string>"
    expect: Mapping[str, Any] = field(default_factory=dict)  # known results, checked by the tests

    def rule(self, state: State, symbol: Symbol) -> Rule | None:
        """The rule for (state, symbol), or None where the machine halts."""
        return self.table.get(state, {}).get(symbol)

    def is_halting(self, state: State) -> bool:
        """True for a state with no rules: entering it ends the run."""
        return not self.table.get(state)

    def tape(self) -> dict[int, Symbol]:
        """The initial tape as {position: symbol}, blanks omitted."""
        return {p: s for p, s in enumerate(self.input) if s != self.blank}

    def with_input(self, symbols: tuple[Symbol, ...], head: int = 0) -> "TuringMachine":
        """The same machine started on another tape; symbols are checked against the alphabet."""
        unknown = sorted(set(symbols) - set(self.symbols))
        if unknown:
            raise ProgramError(
                f"input for {self.name}: symbol(s) {', '.join(map(repr, unknown))} are not in the "
                f"machine's alphabet {list(self.symbols)}"
            )
        return replace(self, input=tuple(symbols), head=head, expect={})

    def digest(self) -> str:
        """sha256 of the machine's meaning (table, blank, start, input), not of its spelling."""
        canon = {
            "blank": self.blank,
            "start": self.start,
            "table": {q: {s: [r.write, r.move, r.next] for s, r in sorted(t.items())} for q, t in sorted(self.table.items())},
            "states": list(self.states),
            "input": list(self.input),
            "head": self.head,
        }
        return hashlib.sha256(json.dumps(canon, sort_keys=True).encode()).hexdigest()


# ----------------------------------------------------------------------------- compact notation


def parse_compact(text: str, *, name: str = "", source: str = "<compact>") -> TuringMachine:
    """Parse ``1RB1LB_1LA1RZ``: states A, B, … in order; symbols 0, 1, …; ``---`` = halt.

    A next state that is not defined (conventionally Z or H) is a halting state.
    """
    text = text.strip()
    if not COMPACT.fullmatch(text):
        raise ProgramError(f"{source}: {text!r} is not compact notation (like 1RB1LB_1LA1RZ)")
    chunks = text.split("_")
    nsym = len(chunks[0]) // 3
    if len(chunks) > 26:
        raise ProgramError(f"{source}: compact notation supports at most 26 states, got {len(chunks)}")
    states = [chr(ord("A") + k) for k in range(len(chunks))]
    symbols = [str(k) for k in range(nsym)]
    table: dict[State, dict[Symbol, Rule]] = {}
    halting: list[State] = []
    for state, chunk in zip(states, chunks):
        if len(chunk) != 3 * nsym:
            raise ProgramError(
                f"{source}: state {state} has {len(chunk) // 3} transitions, state A has {nsym}: "
                "every state needs one three-character transition per symbol"
            )
        table[state] = {}
        for k, symbol in enumerate(symbols):
            write, move, nxt = chunk[3 * k : 3 * k + 3]
            if "-" in (write, move, nxt):
                continue  # undefined: the machine halts here
            where = f"{source}: state {state}, symbol {symbol}"
            if write not in symbols:
                raise ProgramError(f"{where}: writes {write!r}, but the symbols are {symbols}")
            if move not in MOVES:
                raise ProgramError(f"{where}: move {move!r} is not L, R or S")
            if not regex.fullmatch(r"[A-Z]", nxt):
                raise ProgramError(f"{where}: next state {nxt!r} is not a capital letter")
            if nxt not in states and nxt not in halting:
                halting.append(nxt)
            table[state][symbol] = Rule(write, MOVES[move], nxt)
    for h in halting:
        table[h] = {}
    return _freeze(
        name=name or text,
        blank="0",
        start="A",
        states=states + halting,
        symbols=symbols,
        table=table,
        source=source,
    )


# ----------------------------------------------------------------------------- YAML


_TOP_KEYS = {"name", "description", "input", "blank", "start state", "table", "symbols", "head", "expect"}


def load(path: str | Path) -> TuringMachine:
    """Load a program file (YAML), or a compact-notation string given in place of a path."""
    path_str = str(path)
    p = Path(path_str)
    if not p.exists():
        if COMPACT.fullmatch(path_str.strip()) and not regex.search(r"[./\\]", path_str):
            return parse_compact(path_str)
        raise ProgramError(f"{path_str}: no such program file (and not compact notation like 1RB1LB_1LA1RZ)")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ProgramError(f"{path_str}: cannot read program: {e}") from None
    return loads(text, source=path_str)


def loads(text: str, *, source: str = "<string>") -> TuringMachine:
    """Parse and validate a program given as YAML text."""
    top = compose_mapping(text, source, "a program is a YAML mapping with at least 'table' and 'start state'")
    unknown = sorted(set(top.keys()) - _TOP_KEYS)
    if unknown:
        raise ProgramError(f"{top.where(unknown[0])}: unknown key {unknown[0]!r}; known keys: {sorted(_TOP_KEYS)}")
    for required in ("table",):
        if required not in top.keys():
            raise ProgramError(f"{source}: missing key {required!r}")

    name = top.scalar("name") or Path(source).stem
    description = top.scalar("description") or ""
    table_node = top.node("table")
    if isinstance(table_node, yaml.ScalarNode):
        compact = parse_compact(table_node.value, name=name, source=f"{source}:{table_node.start_mark.line + 1}")
        machine = replace(compact, description=description, source=source)
        if top.scalar("blank") not in (None, machine.blank):
            raise ProgramError(f"{top.where('blank')}: compact notation uses blank '0'")
        start = top.scalar("start state")
        if start not in (None, machine.start):
            raise ProgramError(f"{top.where('start state')}: compact notation starts in state A")
    else:
        blank = top.scalar("blank")
        if blank is None:
            raise ProgramError(f"{source}: missing key 'blank' (the symbol of an unwritten cell)")
        start = top.scalar("start state")
        if start is None:
            raise ProgramError(f"{source}: missing key 'start state'")
        states, table = _parse_table(table_node, source)
        if start not in table:
            raise ProgramError(f"{top.where('start state')}: start state {start!r} is not in the table")
        symbols = {blank} | {s for t in table.values() for s in t} | {r.write for t in table.values() for r in t.values()}
        machine = _freeze(
            name=name, blank=blank, start=start, states=states, symbols=symbols,
            table=table, description=description, source=source,
        )
    return _with_extras(machine, top)


def compose_mapping(text: str, source: str, shape: str) -> "YamlMap":
    """Parse YAML text whose top level must be a mapping; errors name the file, line and ``shape``."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ProgramError(f"{source}{line}: not valid YAML: {problem}") from None
    except RecursionError:
        raise ProgramError(f"{source}: YAML nested too deeply to be a program") from None
    if not isinstance(root, yaml.MappingNode):
        raise ProgramError(f"{source}: {shape}")
    return YamlMap(root, source)


def _with_extras(machine: TuringMachine, top: "YamlMap") -> TuringMachine:
    """Apply the keys shared by both table forms: symbols, input, head, expect."""
    symbols = machine.symbols
    if "symbols" in top.keys():
        declared = top.scalars("symbols")
        missing = sorted(set(machine.symbols) - set(declared))
        if missing:
            raise ProgramError(f"{top.where('symbols')}: symbols {missing} are used but not declared")
        if machine.blank not in declared:
            raise ProgramError(f"{top.where('symbols')}: the blank {machine.blank!r} must be declared")
        symbols = (machine.blank, *[s for s in declared if s != machine.blank])
    inp: tuple[Symbol, ...] = ()
    if "input" in top.keys():
        node = top.node("input")
        inp = tuple(top.scalars("input")) if isinstance(node, yaml.SequenceNode) else tuple(top.scalar("input") or "")
        bad = sorted(set(inp) - set(symbols))
        if bad:
            raise ProgramError(f"{top.where('input')}: input symbol(s) {bad} are not in the alphabet {list(symbols)}")
    head = 0
    if "head" in top.keys():
        try:
            head = int(top.scalar("head") or "")
        except ValueError:
            raise ProgramError(f"{top.where('head')}: head must be an integer cell position") from None
    expect = top.plain("expect") if "expect" in top.keys() else {}
    if not isinstance(expect, dict):
        raise ProgramError(f"{top.where('expect')}: expect must be a mapping (steps, nonblank, tape, halted)")
    return replace(machine, symbols=symbols, input=inp, head=head, expect=expect)


def _parse_table(node: yaml.Node, source: str) -> tuple[list[State], dict[State, dict[Symbol, Rule]]]:
    """Read a turingmachine.io table: state -> (symbol | [symbols]) -> action."""
    if not isinstance(node, yaml.MappingNode):
        raise ProgramError(f"{source}:{node.start_mark.line + 1}: 'table' must map states to their rules")
    states: list[State] = []
    raw: dict[State, list[tuple[list[Symbol], yaml.Node]]] = {}
    for knode, vnode in node.value:
        state = _scalar_text(knode, source, "a state name")
        if state in raw:
            raise ProgramError(f"{source}:{knode.start_mark.line + 1}: state {state!r} is defined twice")
        states.append(state)
        raw[state] = []
        if _is_null(vnode):
            continue  # a halting state
        if not isinstance(vnode, yaml.MappingNode):
            raise ProgramError(f"{source}:{vnode.start_mark.line + 1}: state {state!r}: expected symbol: action pairs")
        for sk, action in vnode.value:
            if isinstance(sk, yaml.SequenceNode):
                syms = [_scalar_text(s, source, "a symbol") for s in sk.value]
            else:
                syms = [_scalar_text(sk, source, "a symbol")]
            raw[state].append((syms, action))
    table: dict[State, dict[Symbol, Rule]] = {}
    for state in states:
        table[state] = {}
        for syms, action in raw[state]:
            for sym in syms:
                where = f"{source}:{action.start_mark.line + 1}: state {state!r}, symbol {sym!r}"
                if sym in table[state]:
                    raise ProgramError(f"{where}: defined twice")
                table[state][sym] = _parse_action(action, state, sym, where, raw)
    return states, table


def _parse_action(node: yaml.Node, state: State, sym: Symbol, where: str, states: Mapping[State, Any]) -> Rule:
    """``R`` | ``{L: next}`` | ``{write: s, R}`` | ``{write: s, L: next}`` (S = stay)."""
    if isinstance(node, yaml.ScalarNode) and node.value in MOVES:
        return Rule(sym, MOVES[node.value], state)
    if not isinstance(node, yaml.MappingNode):
        raise ProgramError(f"{where}: an action is L, R, S or a mapping like {{write: 1, L: next}}")
    write, move, nxt = sym, None, state
    for k, v in node.value:
        key = _scalar_text(k, where, "an action key")
        if key == "write":
            write = _scalar_text(v, where, "the symbol to write")
        elif key in MOVES:
            if move is not None:
                raise ProgramError(f"{where}: more than one move in one action")
            move = MOVES[key]
            if not _is_null(v):
                nxt = _scalar_text(v, where, "a next state")
        else:
            raise ProgramError(f"{where}: unknown action key {key!r} (use write, L, R or S)")
    if move is None:
        raise ProgramError(f"{where}: the action has no move (add L, R or S)")
    if nxt not in states:
        raise ProgramError(f"{where}: next state {nxt!r} is not defined in the table")
    return Rule(write, move, nxt)


def _freeze(*, name, blank, start, states, symbols, table, description="", source="<string>") -> TuringMachine:
    ordered = (blank, *sorted(set(symbols) - {blank}))
    frozen = MappingProxyType({q: MappingProxyType(dict(t)) for q, t in table.items()})
    return TuringMachine(
        name=name, blank=blank, start=start, states=tuple(states), symbols=ordered,
        table=frozen, description=description, source=source,
    )


# ----------------------------------------------------------------------------- YAML node helpers


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")


def _scalar_text(node: yaml.Node, source: str, what: str) -> str:
    """The text of a scalar exactly as written (so 1 is '1' and ' ' is ' ', never int or bool)."""
    if not isinstance(node, yaml.ScalarNode):
        raise ProgramError(f"{source}:{node.start_mark.line + 1}: expected {what}, got a {node.id}")
    return node.value


class YamlMap:
    """A top-level YAML mapping that remembers the line of every key, for error messages."""

    def __init__(self, node: yaml.MappingNode, source: str):
        self.source = source
        self._items: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for k, v in node.value:
            key = _scalar_text(k, source, "a key")
            if key in self._items:
                raise ProgramError(f"{source}:{k.start_mark.line + 1}: key {key!r} appears twice")
            self._items[key] = (k, v)

    def keys(self) -> list[str]:
        return list(self._items)

    def where(self, key: str) -> str:
        return f"{self.source}:{self._items[key][0].start_mark.line + 1}"

    def node(self, key: str) -> yaml.Node:
        return self._items[key][1]

    def scalar(self, key: str) -> str | None:
        if key not in self._items or _is_null(self.node(key)):
            return None
        return _scalar_text(self.node(key), self.where(key), f"a single value for {key!r}")

    def scalars(self, key: str) -> list[str]:
        node = self.node(key)
        if not isinstance(node, yaml.SequenceNode):
            raise ProgramError(f"{self.where(key)}: {key!r} must be a list")
        return [_scalar_text(n, self.where(key), "a symbol") for n in node.value]

    def plain(self, key: str) -> Any:
        try:
            return _construct(self.node(key))
        except (yaml.YAMLError, ValueError, TypeError, AttributeError, RecursionError) as e:  # a bad tag or alias
            raise ProgramError(f"{self.where(key)}: {key!r} cannot be read ({type(e).__name__}); "
                               "write plain numbers, strings, lists and mappings") from None


def _construct(node: yaml.Node) -> Any:
    """Build plain Python data from a node (used for the free-form 'expect' block)."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


@dataclass(frozen=True)
class Configuration:
    """A machine's complete situation: state, head position, tape (non-blank cells), halted or not."""

    state: State
    head: int
    tape: Mapping[int, Symbol]
    halted: bool = False

    def window(self, blank: Symbol, radius: int = 12) -> str:
        """The tape around the head, the head's cell in brackets: ``0 1 [1] 0``."""
        cells = []
        for p in range(self.head - radius, self.head + radius + 1):
            s = self.tape.get(p, blank)
            cells.append(f"[{s}]" if p == self.head else s)
        return " ".join(cells)

    def describe(self, blank: Symbol) -> str:
        status = "halted" if self.halted else "running"
        return f"state {self.state} ({status}), head {self.head}: {self.window(blank)}"


def tape_string(tape: Mapping[int, Symbol], blank: Symbol) -> str:
    """The written part of a tape, from the leftmost to the rightmost non-blank cell."""
    cells = [p for p, s in tape.items() if s != blank]
    if not cells:
        return ""
    return "".join(tape.get(p, blank) for p in range(min(cells), max(cells) + 1))
