"""``oracle``: a deterministic, non-LLM backend that answers by reading the prompt text.

It sees exactly what a model would see — the prompt string — and nothing of the machine's hidden
state (no memory, no transition table). It evaluates the instruction the way the dialect's wording
says a reader should, so it is the ideal CPU: what a perfect model would answer. Use it for tests
and demos; it is always reported as "deterministic, not an LLM".
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import regex

from llmvm.backends import Completion
from llmvm.dialect import Dialect
from llmvm.errors import BackendError

# if-then: a program is a run of statements ending in "$result"; the last one in the prompt is
# the query (the few-shot demonstrations before it are followed by their answers).
_ASSIGN = regex.compile(r'result = "(.*)"')
_IF = regex.compile(r'if (.*?)==(.*?) then result = "(.*)"')


class OracleBackend:
    name: ClassVar[str] = "oracle"
    is_llm: ClassVar[bool] = False

    def __init__(self, *, dialect: Dialect, **options: Any):
        if options:
            raise BackendError(f"oracle takes no options, got {sorted(options)}")
        self.language = dialect.language
        if self.language == "lookup":
            entry, query = (regex.compile(dialect.lookup[k], regex.MULTILINE) for k in ("entry", "query"))  # type: ignore[index]
            self._read = lambda prompt: read_lookup(prompt, entry, query)
        else:
            self._read = read_if_then

    def complete(self, prompt: str) -> Completion:
        t = time.perf_counter()
        text = self._read(prompt)
        return Completion(text, latency=time.perf_counter() - t)

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "is_llm": False, "reads": f"{self.language} prompts"}


def read_if_then(prompt: str) -> str:
    """Evaluate the last if-then program in the prompt and return its ``result``."""
    lines = prompt.rstrip("\n").split("\n")
    if not lines or lines[-1].strip() != "$result":
        raise BackendError("oracle: an if-then prompt must end with a $result line")
    start = len(lines) - 1
    while start > 0 and (_ASSIGN.fullmatch(lines[start - 1]) or _IF.fullmatch(lines[start - 1])):
        start -= 1
    result = None
    for line in lines[start:-1]:
        if m := _IF.fullmatch(line):
            if m[1] == m[2]:
                result = m[3]
        elif m := _ASSIGN.fullmatch(line):
            result = m[1]
    if result is None:
        raise BackendError("oracle: the prompt's final program assigns no result")
    return result


def read_lookup(prompt: str, entry: regex.Pattern, query: regex.Pattern) -> str:
    """Find the last query in the prompt and return the answer its table lists under that key.

    The table is the run of entry lines just before the query (few-shot examples before it have
    their own tables and answers).
    """
    asks = list(query.finditer(prompt))
    if not asks:
        raise BackendError("oracle: the prompt has no look-up query line")
    ask = asks[-1]
    table = prompt[: ask.start()]
    previous = list(query.finditer(table))
    if previous:
        table = table[previous[-1].end():]
    answers = {m["key"]: m["answer"] for m in entry.finditer(table)}
    if ask["key"] not in answers:
        raise BackendError(f"oracle: the look-up table has no entry for {ask['key']!r}")
    return answers[ask["key"]]
