"""``replay``: a deterministic, non-LLM backend that answers from a recorded list of completions.

The recording is a JSON Lines file, one ``{"completion": "..."}`` object per call in order; a
record may carry ``"prompt_sha256"``, and then the replay refuses to go on if the prompt it is asked
differs from the one recorded (the run has diverged from the recording). Always reported as
"deterministic, not an LLM", even when the completions came from a model.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, ClassVar

from llmvm.backends import Completion
from llmvm.dialect import Dialect
from llmvm.errors import BackendError


def prompt_hash(prompt: str) -> str:
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()


class ReplayBackend:
    name: ClassVar[str] = "replay"
    is_llm: ClassVar[bool] = False

    def __init__(self, *, dialect: Dialect | None = None, path: str | None = None,
                 records: list[dict[str, str]] | None = None):
        if (path is None) == (records is None):
            raise BackendError("replay needs a recording: --option path=FILE.jsonl")
        self.path = path
        self.records = records if records is not None else _load(Path(path))  # type: ignore[arg-type]
        self.position = 0

    def complete(self, prompt: str) -> Completion:
        if self.position >= len(self.records):
            raise BackendError(f"replay: the recording has only {len(self.records)} completions")
        rec = self.records[self.position]
        expected = rec.get("prompt_sha256")
        if expected and expected != prompt_hash(prompt):
            raise BackendError(
                f"replay: call {self.position + 1} was recorded for another prompt "
                f"(sha256 {expected[:12]}…, asked {prompt_hash(prompt)[:12]}…): the run diverged from the recording"
            )
        self.position += 1
        return Completion(rec["completion"])

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "is_llm": False, "recording": self.path, "records": len(self.records)}


def _load(path: Path) -> list[dict[str, str]]:
    records = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise BackendError(f"replay: cannot read {path}: {e}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise BackendError(f"{path}:{n}: not JSON: {e.msg}") from None
        if not isinstance(rec, dict) or not isinstance(rec.get("completion"), str):
            raise BackendError(f'{path}:{n}: each line must be an object with a "completion" string')
        records.append(rec)
    return records
