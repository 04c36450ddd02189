"""The CPU seam: a backend turns a prompt into a completion.

A backend is any class with ``name``, ``is_llm``, ``complete(prompt) -> Completion`` and
``describe() -> dict`` (its model and decoding settings, never secrets). Backends are found by
name through the ``llmvm.backends`` entry-point group — the built-ins are registered there too, in
``pyproject.toml`` — so a third-party package adds one with a single line in its own metadata.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, ClassVar, Protocol, runtime_checkable

from llmvm.errors import BackendError

GROUP = "llmvm.backends"


@dataclass(frozen=True, slots=True)
class Completion:
    """One answer from a backend, with what it cost."""

    text: str
    latency: float = 0.0  # seconds spent in the backend
    tokens_in: int | None = None  # prompt tokens, when the backend reports them
    tokens_out: int | None = None
    cached: bool = False  # True when no backend call was made (a cache answered)


@runtime_checkable
class Backend(Protocol):
    name: ClassVar[str]
    is_llm: ClassVar[bool]  # False for deterministic stand-ins: they are never reported as a model

    def complete(self, prompt: str) -> Completion: ...

    def describe(self) -> dict[str, Any]: ...


def registry() -> dict[str, Any]:
    """Backend name -> entry point (not yet imported)."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def create(name: str, **options: Any) -> Backend:
    """Instantiate the backend registered under ``name`` with keyword options."""
    eps = registry()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none (is llmvm installed? run: pip install -e .)"
        raise BackendError(f"no backend named {name!r}; available: {known}")
    try:
        cls = eps[name].load()
    except ImportError as e:
        raise BackendError(f"backend {name!r} cannot be loaded: {e} (is its extra installed?)") from None
    try:
        inspect.signature(cls).bind(**options)
    except TypeError as e:
        raise BackendError(f"backend {name!r}: {e}; see README: Backends for its options "
                           "(API keys belong in the environment or the config file, never in -o)") from None
    return cls(**options)


def label(backend: Backend) -> str:
    """How a backend is named in every report: non-LLM backends say so."""
    if not backend.is_llm:
        return f"{backend.name} (deterministic, not an LLM)"
    model = backend.describe().get("model")
    return f"{backend.name} ({model})" if model else backend.name
