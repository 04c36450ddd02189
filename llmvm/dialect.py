"""Prompt dialects: the wording of instructions, as data (``prompts/*.yaml``).

A dialect says how one state's instruction text is put together from its cases (one answer per
symbol read), and how an answer is spelled. The compiler fills the templates; the harness never
sees a dialect. Placeholders: ``{cases}`` in ``instruction``; ``{symbol}`` and ``{answer}`` in the
case templates; ``{next}``, ``{write}`` and ``{move}`` in ``answer``.

``language`` names the family of wording, which is what the non-LLM ``oracle`` backend needs to
read a prompt of this dialect: ``if-then`` (a tiny program to evaluate) or ``lookup`` (a table of
answers keyed by symbol, then a query naming the symbol read). A lookup dialect says how to read
its table with two regular expressions, ``lookup.entry`` (groups ``key`` and ``answer``, one table
line) and ``lookup.query`` (group ``key``, the line that asks).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import regex
import yaml

from llmvm.errors import ProgramError

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
LANGUAGES = ("if-then", "lookup")

# template field -> the placeholders it must use (it may use no others)
_FIELDS: Mapping[str, set[str]] = {
    "instruction": {"cases"},
    "uniform": {"answer"},
    "first_case": {"symbol", "answer"},
    "case": {"symbol", "answer"},
    "answer": {"next", "write", "move"},
    "halt_answer": set(),
}
_OPTIONAL = {"uniform", "first_case"}


@dataclass(frozen=True)
class Dialect:
    """A validated prompt dialect."""

    name: str
    language: str
    boot: str  # the few-shot prefix, stored in memory under ``boot`` ("" for zero-shot)
    instruction: str
    case: str
    first_case: str  # the first symbol's case (the if-then default); defaults to ``case``
    uniform: str | None  # a state that does the same on every symbol; None = list every case
    answer: str
    halt_answer: str
    moves: Mapping[str, str]  # "L" | "R" | "S" -> the head update, e.g. "i-=1"
    read_depth: int
    description: str = ""
    source: str = ""
    lookup: Mapping[str, str] | None = None  # lookup dialects: {"entry": regex, "query": regex}

    def render_answer(self, write: str, move: str, next_label: str | None) -> str:
        """The answer line for one case; ``next_label`` None means the machine halts."""
        if next_label is None:
            return self.halt_answer
        return self.answer.format(next=next_label, write=write, move=self.moves[move])


def available() -> list[str]:
    """Names of the dialects shipped in prompts/."""
    return sorted(p.stem for p in PROMPTS_DIR.glob("*.yaml"))


def load(name_or_path: str) -> Dialect:
    """Load a dialect by name (``schuurmans``) or from a YAML file path."""
    path = Path(name_or_path)
    if not path.exists():
        path = PROMPTS_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        raise ProgramError(f"no dialect {name_or_path!r}: shipped dialects are {', '.join(available())}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ProgramError(f"{path}{f':{mark.line + 1}' if mark else ''}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ProgramError(f"{path}: a dialect is a YAML mapping")
    return from_data(data, source=str(path))


def save(dialect: Dialect, path: str | Path) -> None:
    """Write a dialect as YAML that ``load`` reads back unchanged (e.g. one repaired by verify)."""
    data = {
        "name": dialect.name, "description": dialect.description, "language": dialect.language,
        "read_depth": dialect.read_depth, "boot": dialect.boot, "instruction": dialect.instruction,
        "first_case": dialect.first_case, "case": dialect.case, "answer": dialect.answer,
        "halt_answer": dialect.halt_answer, "moves": dict(dialect.moves),
    }
    if dialect.uniform is not None:
        data["uniform"] = dialect.uniform
    if dialect.lookup is not None:
        data["lookup"] = dict(dialect.lookup)
    Path(path).write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000), encoding="utf-8")


def from_data(data: dict, *, source: str = "<dialect>") -> Dialect:
    """Validate a dialect given as plain data."""
    where = f"{source}: dialect"
    for key, allowed in _FIELDS.items():
        if key not in data:
            if key in _OPTIONAL:
                continue
            raise ProgramError(f"{where} is missing {key!r}")
        value = data[key]
        if not isinstance(value, str):
            raise ProgramError(f"{where} field {key!r} must be a string template")
        used = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
        if used - allowed:
            raise ProgramError(f"{where} field {key!r} uses unknown placeholder(s) {sorted(used - allowed)}; allowed: {sorted(allowed)}")
    language = data.get("language")
    if language not in LANGUAGES:
        raise ProgramError(f"{where} 'language' must be one of {LANGUAGES}, got {language!r}")
    moves = data.get("moves")
    if not isinstance(moves, dict) or not {"L", "R"} <= set(moves):
        raise ProgramError(f"{where} 'moves' must map L and R (and optionally S) to head updates like i-=1")
    depth = data.get("read_depth", 2)
    if not isinstance(depth, int) or not 1 <= depth <= 8:
        raise ProgramError(f"{where} 'read_depth' must be an integer from 1 to 8")
    lookup = data.get("lookup")
    if language == "lookup":
        if not isinstance(lookup, dict) or set(lookup) != {"entry", "query"}:
            raise ProgramError(f"{where} a lookup dialect needs 'lookup' with 'entry' and 'query' regular expressions")
        for key, pattern in lookup.items():
            try:
                groups = set(regex.compile(pattern, regex.MULTILINE).groupindex)
            except (regex.error, TypeError) as e:
                raise ProgramError(f"{where} lookup.{key} is not a regular expression: {e}") from None
            needed = {"key", "answer"} if key == "entry" else {"key"}
            if not needed <= groups:
                raise ProgramError(f"{where} lookup.{key} needs the named group(s) {sorted(needed)}")
    boot = data.get("boot") or ""
    if "@[" in boot:
        raise ProgramError(f"{where} 'boot' must not contain @[ (it is read into every prompt and would be expanded)")
    return Dialect(
        name=str(data.get("name") or Path(source).stem),
        language=language,
        boot=boot,
        instruction=data["instruction"],
        case=data["case"],
        first_case=data.get("first_case", data["case"]),
        uniform=data.get("uniform"),
        answer=data["answer"],
        halt_answer=data["halt_answer"],
        moves={k: str(v or "") for k, v in moves.items()},
        read_depth=depth,
        description=str(data.get("description") or ""),
        source=source,
        lookup=dict(lookup) if language == "lookup" else None,
    )
