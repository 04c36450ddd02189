"""An in-run memo in front of any backend.

Under greedy decoding a model is a function of its prompt, so a run needs at most one real call per
distinct prompt (29 for U15,2, however long the run). The memo counts real calls and hits.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from llmvm.backends import Backend, Completion


class Memo:
    """Answer repeated prompts from memory; delegate the first occurrence to ``inner``."""

    def __init__(self, inner: Backend):
        self.inner = inner
        self.name, self.is_llm = inner.name, inner.is_llm
        self._answers: dict[str, Completion] = {}  # prompt -> completion (marked cached)
        self.calls = 0
        self.hits = 0

    def complete(self, prompt: str) -> Completion:
        hit = self._answers.get(prompt)
        if hit is not None:
            self.hits += 1
            return hit
        answer = self.inner.complete(prompt)
        self.calls += 1
        self._answers[prompt] = replace(answer, cached=True, latency=0.0)
        return answer

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()
