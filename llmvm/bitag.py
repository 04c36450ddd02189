"""Bi-tag systems: the programs U15,2 runs. Format, validation and a direct simulator.

A bi-tag system has two disjoint alphabets, A (data) and E (control); the last E-symbol halts. A word
holds exactly one E-symbol and at least one A-symbol. One step looks at the front of the word:

    a ...        ->  ... a              (an A-symbol in front is rotated to the back: passive)
    e a ...      ->  ... P(e, a)        (e and the A-symbol after it are replaced: active)
    e_h ...      ->  halt

where P(e, a) is ``a_k e_m`` or ``a_k a_l e_m``. The file format (YAML)::

    name: demo
    A: [a1, a2]               # data symbols a_1 .. a_q, in this order
    E: [e1, halt]             # control symbols e_1 .. e_h; the last one halts
    start: e1 a1 a2           # the start word, symbols separated by spaces
    productions:              # total over E minus the halting symbol, times A
      e1: {a1: a2 halt, a2: a1 a1 e1}

See ``llmvm/u15.py`` for how a bi-tag system becomes a U15,2 tape.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Mapping

import regex
import yaml

from llmvm.errors import ProgramError
from llmvm.program import YamlMap, compose_mapping

Name = str
Word = tuple[Name, ...]
NAME = regex.compile(r"[^\s\[\]{}:,#'\"]+")  # a symbol name: no spaces, no YAML punctuation
_TOP_KEYS = {"name", "description", "A", "E", "start", "productions", "expect", "legend"}


@dataclass(frozen=True)
class BiTag:
    """A validated bi-tag system and its start word."""

    name: str
    A: tuple[Name, ...]  # a_1 .. a_q
    E: tuple[Name, ...]  # e_1 .. e_h; E[-1] is the halting symbol
    productions: Mapping[tuple[Name, Name], Word]  # (e, a) -> a_k [a_l] e_m, total for e != E[-1]
    start: Word
    description: str = ""
    source: str = "<string>"
    expect: Mapping[str, Any] = field(default_factory=dict)
    legend: Mapping[str, Any] = field(default_factory=dict)  # how to read a halting word (tm2bitag.py)

    @property
    def halt(self) -> Name:
        return self.E[-1]

    def with_start(self, word: Word) -> "BiTag":
        """The same system started on another word (checked)."""
        return _checked(replace(self, start=tuple(word), expect={}))

    def with_expect(self, expect: Mapping[str, Any]) -> "BiTag":
        """The same system with known results recorded (for the file header and the tests)."""
        return replace(self, expect=dict(expect))

    def to_data(self) -> dict[str, Any]:
        """Plain data in the file format (for ``dump``)."""
        table = {e: {a: " ".join(self.productions[e, a]) for a in self.A} for e in self.E[:-1]}
        data: dict[str, Any] = {"name": self.name}
        if self.description:
            data["description"] = self.description
        data.update({"A": list(self.A), "E": list(self.E), "start": " ".join(self.start), "productions": table})
        if self.expect:
            data["expect"] = dict(self.expect)
        if self.legend:
            data["legend"] = dict(self.legend)
        return data


@dataclass(frozen=True)
class Run:
    """How a direct simulation ended: the last word and how many steps led to it."""

    halted: bool
    steps: int  # bi-tag steps made (passive and active)
    active: int  # of which active
    word: Word


# ----------------------------------------------------------------------------- simulation


def steps(system: BiTag) -> Iterator[Word]:
    """Every word of the run, the start word first; ends with the halting word (or never)."""
    word, E = deque(system.start), set(system.E)
    yield tuple(word)
    while word[0] != system.halt:
        _step(word, E, system.productions)
        yield tuple(word)


def simulate(system: BiTag, max_steps: int) -> Run:
    """Run at most ``max_steps`` steps (no word is copied per step)."""
    word, E, table = deque(system.start), set(system.E), system.productions
    n = active = 0
    while word[0] != system.halt and n < max_steps:
        active += _step(word, E, table)
        n += 1
    return Run(word[0] == system.halt, n, active, tuple(word))


def _step(word: deque[Name], E: set[Name], table: Mapping[tuple[Name, Name], Word]) -> bool:
    """One step in place; True when it was active (a production was appended)."""
    head = word.popleft()
    if head in E:
        word.extend(table[head, word.popleft()])
        return True
    word.append(head)
    return False


# ----------------------------------------------------------------------------- loading


def load(path: str | Path) -> BiTag:
    """Load and validate a bi-tag system file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ProgramError(f"{path}: cannot read bi-tag system: {e}") from None
    return loads(text, source=str(path))


def loads(text: str, *, source: str = "<string>") -> BiTag:
    """Parse and validate a bi-tag system given as YAML text."""
    top = compose_mapping(text, source, "a bi-tag system is a YAML mapping with A, E, start and productions")
    unknown = sorted(set(top.keys()) - _TOP_KEYS)
    if unknown:
        raise ProgramError(f"{top.where(unknown[0])}: unknown key {unknown[0]!r}; known keys: {sorted(_TOP_KEYS)}")
    for key in ("A", "E", "start", "productions"):
        if key not in top.keys():
            raise ProgramError(f"{source}: missing key {key!r}")
    A, E = _alphabet(top, "A"), _alphabet(top, "E")
    start = _word(top.scalar("start") or "", top.where("start"), "the start word")
    table = _productions(top, set(A), set(E))
    extra = {k: top.plain(k) if k in top.keys() else {} for k in ("expect", "legend")}
    for key, value in extra.items():
        if not isinstance(value, dict):
            raise ProgramError(f"{top.where(key)}: {key!r} must be a mapping")
    system = BiTag(top.scalar("name") or Path(source).stem, A, E, table, start,
                   top.scalar("description") or "", source, extra["expect"], extra["legend"])
    return _checked(system, where={"start": top.where("start"), "productions": top.where("productions")})


def dump(system: BiTag, header: str = "") -> str:
    """The system as YAML text in the file format, with an optional comment header."""
    lines = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines())
    return lines + yaml.safe_dump(system.to_data(), sort_keys=False, width=120, allow_unicode=True)


def _alphabet(top: YamlMap, key: str) -> tuple[Name, ...]:
    names = top.scalars(key) if isinstance(top.node(key), yaml.SequenceNode) else (top.scalar(key) or "").split()
    for n in names:
        if not NAME.fullmatch(n):
            raise ProgramError(f"{top.where(key)}: {n!r} is not a symbol name (no spaces or YAML punctuation)")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ProgramError(f"{top.where(key)}: symbol(s) {dup} appear twice in {key}")
    if not names:
        raise ProgramError(f"{top.where(key)}: alphabet {key} is empty")
    return tuple(names)


def _word(text: str, where: str, what: str) -> Word:
    word = tuple(text.split())
    for n in word:
        if not NAME.fullmatch(n):
            raise ProgramError(f"{where}: {n!r} in {what} is not a symbol name")
    return word


def _productions(top: YamlMap, A: set[Name], E: set[Name]) -> dict[tuple[Name, Name], Word]:
    node, source = top.node("productions"), top.source
    if not isinstance(node, yaml.MappingNode):
        raise ProgramError(f"{top.where('productions')}: productions map each E-symbol to {{A-symbol: word}}")
    table: dict[tuple[Name, Name], Word] = {}
    for enode, rows in node.value:
        where = f"{source}:{enode.start_mark.line + 1}"
        e = str(enode.value)
        if e not in E:
            raise ProgramError(f"{where}: {e!r} is not an E-symbol")
        if not isinstance(rows, yaml.MappingNode):
            raise ProgramError(f"{where}: the productions of {e} map A-symbols to words")
        for anode, wnode in rows.value:
            at = f"{source}:{anode.start_mark.line + 1}"
            a = str(anode.value)
            if a not in A:
                raise ProgramError(f"{at}: {a!r} (in the productions of {e}) is not an A-symbol")
            if (e, a) in table:
                raise ProgramError(f"{at}: the production for ({e}, {a}) is given twice")
            if not isinstance(wnode, yaml.ScalarNode):
                raise ProgramError(f"{at}: the production for ({e}, {a}) is a word like 'a1 e2'")
            table[e, a] = _word(str(wnode.value), at, f"the production for ({e}, {a})")
    return table


def _checked(system: BiTag, where: Mapping[str, str] | None = None) -> BiTag:
    """Validate everything U15,2 relies on; errors name the file (and line) and the symbols."""
    where = where or {}
    src = system.source
    A, E = set(system.A), set(system.E)
    both = sorted(A & E)
    if both:
        raise ProgramError(f"{src}: symbol(s) {both} are in both A and E (the alphabets must be disjoint)")
    if len(system.E) < 1:
        raise ProgramError(f"{src}: E needs at least the halting symbol")
    at = where.get("productions", src)
    for (e, a), rhs in system.productions.items():
        if e == system.halt:
            raise ProgramError(f"{at}: {e} is the halting symbol (last in E): it has no productions")
        shape_ok = 2 <= len(rhs) <= 3 and all(s in A for s in rhs[:-1]) and rhs[-1] in E
        if not shape_ok:
            raise ProgramError(
                f"{at}: the production for ({e}, {a}) is {' '.join(rhs)!r}; it must be one or two "
                f"A-symbols then one E-symbol (a_k e_m or a_k a_l e_m)"
            )
    missing = [(e, a) for e in system.E[:-1] for a in system.A if (e, a) not in system.productions]
    if missing:
        shown = ", ".join(f"({e}, {a})" for e, a in missing[:5])
        raise ProgramError(f"{at}: the production table must be total; missing {shown}"
                           f"{' …' if len(missing) > 5 else ''} (give unreachable pairs any production)")
    _check_word(system, system.start, where.get("start", src), "the start word")
    return system


def _check_word(system: BiTag, word: Word, where: str, what: str) -> None:
    unknown = sorted(set(word) - set(system.A) - set(system.E))
    if unknown:
        raise ProgramError(f"{where}: {what} uses unknown symbol(s) {unknown}")
    controls = [s for s in word if s in set(system.E)]
    if len(controls) != 1:
        raise ProgramError(f"{where}: {what} must hold exactly one E-symbol, it holds {len(controls)}: {controls}")
    if len(word) < 2:
        raise ProgramError(f"{where}: {what} must hold at least one A-symbol")
