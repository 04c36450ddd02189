"""``openai``: any OpenAI-compatible server as the CPU — OpenAI, vLLM, llama.cpp's server, Ollama.

Greedy decoding (temperature 0, and ``repeat_penalty`` 1.0 for servers that apply one by default,
as llama.cpp's does), a bounded number of output tokens, stop at the end of the answer line.
Timeouts and transient failures (connection errors, 429 — honouring ``Retry-After`` — and 5xx) are
retried with bounded exponential backoff by tenacity; the client's own retries are off so that the
two do not multiply. The API key is read from the environment (``LLMVM_API_KEY``, ``OPENAI_API_KEY``)
or, failing that, from the user's private configuration file (see config.py); it is never stored in
``describe()``, a cache, a checkpoint, a trace or a message.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, ClassVar
from urllib.parse import urlsplit

from llmvm import config
from llmvm.backends import Completion
from llmvm.errors import BackendError

ENDPOINTS = ("completion", "chat")
KEY_VARS = ("LLMVM_API_KEY", "OPENAI_API_KEY")


def _env(*names: str) -> str | None:
    for n in names:
        if os.environ.get(n):
            return os.environ[n]
    return None


class OpenAIBackend:
    name: ClassVar[str] = "openai"
    is_llm: ClassVar[bool] = True

    def __init__(self, *, dialect: Any = None, model: str | None = None, base_url: str | None = None,
                 endpoint: str = "completion", max_tokens: int | str = 64, timeout: float | str = 60.0,
                 retries: int | str = 5, seed: int | str | None = 0, system: str | None = None,
                 repeat_penalty: float | str | None = "auto", concurrency: int | str = 4,
                 backoff: float | str = 0.5):
        import openai  # imported here: nothing touches the network or reads secrets at import time

        self.model = model or _env("LLMVM_MODEL")
        if not self.model:
            raise BackendError("openai backend: no model; pass -o model=NAME or set LLMVM_MODEL")
        if endpoint not in ENDPOINTS:
            raise BackendError(f"openai backend: endpoint must be one of {ENDPOINTS}, got {endpoint!r}")
        self.base_url = base_url or _env("LLMVM_BASE_URL", "OPENAI_BASE_URL")
        key = _env(*KEY_VARS) or config.api_key(self.name)
        if key is None and self.base_url is None:
            raise BackendError(
                "openai backend: no API key found — set OPENAI_API_KEY (or LLMVM_API_KEY), put it in "
                f"{config.path()} as [openai] api_key = \"...\" (chmod 600), "
                "or point -o base_url=http://127.0.0.1:8080/v1 at a local server"
            )
        self.endpoint = endpoint
        self.max_tokens = int(max_tokens)
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.seed = None if seed in (None, "", "none") else int(seed)
        self.system = system
        if repeat_penalty == "auto":  # servers such as llama.cpp's apply 1.1 unless told; OpenAI rejects it
            repeat_penalty = None if self.base_url is None else 1.0
        self.repeat_penalty = None if repeat_penalty in (None, "", "none") else float(repeat_penalty)
        self.concurrency = int(concurrency)
        self.backoff = float(backoff)  # first retry delay in seconds; doubles up to 30 s
        self._openai = openai
        # max_retries=0: tenacity owns retrying, so the two never multiply
        self._client = openai.OpenAI(api_key=key or "not-needed", base_url=self.base_url,
                                     timeout=self.timeout, max_retries=0)

    # ----------------------------------------------------------------------------------- calls

    def complete(self, prompt: str) -> Completion:
        from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

        started = time.perf_counter()
        retrying = Retrying(
            retry=retry_if_exception(self._transient),
            stop=stop_after_attempt(self.retries + 1),
            wait=self._wait(wait_exponential(multiplier=self.backoff, max=30)),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    text, usage = self._call(prompt)
        except (self._openai.APIError, json.JSONDecodeError) as e:
            raise BackendError(f"openai backend ({self._where()}): {self._describe_error(e)}") from None
        return Completion(text, latency=time.perf_counter() - started,
                          tokens_in=getattr(usage, "prompt_tokens", None),
                          tokens_out=getattr(usage, "completion_tokens", None))

    def _call(self, prompt: str) -> tuple[str, Any]:
        common: dict[str, Any] = {"model": self.model, "temperature": 0.0, "max_tokens": self.max_tokens,
                                  "stop": ["\n"]}
        if self.seed is not None:
            common["seed"] = self.seed
        if self.repeat_penalty is not None:
            common["extra_body"] = {"repeat_penalty": self.repeat_penalty}
        if self.endpoint == "chat":
            messages = [{"role": "user", "content": prompt}]
            if self.system:
                messages.insert(0, {"role": "system", "content": self.system})
            r = self._client.chat.completions.create(messages=messages, **common)
            text = r.choices[0].message.content if r.choices else None
        else:
            r = self._client.completions.create(prompt=prompt, **common)
            text = r.choices[0].text if r.choices else None
        if not isinstance(text, str):
            raise BackendError(f"openai backend ({self._where()}): the server returned no completion text")
        return text, getattr(r, "usage", None)

    def _transient(self, e: BaseException) -> bool:
        o = self._openai
        if isinstance(e, (o.APITimeoutError, o.APIConnectionError, o.RateLimitError, o.InternalServerError)):
            return True
        if isinstance(e, (json.JSONDecodeError, o.APIResponseValidationError)):
            return True  # a body cut short or mangled on the way (a proxy, a restart): ask again
        return isinstance(e, o.APIStatusError) and e.status_code >= 500

    def _wait(self, backoff: Any) -> Any:
        """Exponential backoff, but never shorter than a server's Retry-After (bounded at 60 s)."""
        def wait(state: Any) -> float:
            delay = backoff(state)
            e = state.outcome.exception() if state.outcome else None
            resp = getattr(e, "response", None)
            after = resp.headers.get("retry-after") if resp is not None else None
            try:
                return min(max(delay, float(after)), 60.0) if after else delay
            except ValueError:
                return delay
        return wait

    def _describe_error(self, e: Exception) -> str:
        status = getattr(e, "status_code", None)
        kind = type(e).__name__
        hint = ""
        if status == 401:
            hint = " — check OPENAI_API_KEY / LLMVM_API_KEY"
        elif status == 404:
            hint = f" — is {self.model!r} served there, and is the endpoint {self.endpoint!r} right?"
        elif isinstance(e, (self._openai.APIConnectionError, self._openai.APITimeoutError)):
            hint = f" after {self.retries + 1} attempts — is the server running?"
        return f"{kind}{f' (HTTP {status})' if status else ''}{hint}"

    def _where(self) -> str:
        if not self.base_url:
            return "api.openai.com"
        parts = urlsplit(self.base_url)
        return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)

    def describe(self) -> dict[str, Any]:
        """Model and decoding settings — and where; never the key or any header."""
        return {
            "backend": self.name, "is_llm": True, "model": self.model, "server": self._where(),
            "endpoint": self.endpoint, "temperature": 0.0, "max_tokens": self.max_tokens, "stop": ["\n"],
            "seed": self.seed, "repeat_penalty": self.repeat_penalty, "system": self.system,
        }
