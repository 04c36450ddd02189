"""The completion cache: an in-run memo, optionally backed by a SQLite file shared between runs.

Under greedy decoding a model is a function of its prompt, so a run needs at most one real call per
distinct prompt (29 for U15,2, however long the run). The key is everything that fixes the answer:
the backend's ``describe()`` (backend, model — a file hash for local models —, decoding settings),
the dialect and the prompt. Modes:

* ``use``     — read and write (default);
* ``refresh`` — ask the backend again and overwrite what is stored;
* ``replay-only`` — read only: a prompt not in the store is an error, never a call;
* ``off``     — no store (the in-run memo stays, unless the run turns it off).

An answer the harness refuses is forgotten (``forget``): memo and store drop it, so a retry or a
resumed run asks the backend again instead of replaying the bad answer.

SQLite in WAL mode with a busy timeout, one short transaction per write: safe for concurrent runs
sharing one file, and a crash leaves it readable.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from llmvm.backends import Backend, Completion
from llmvm.errors import BackendError

MODES = ("use", "refresh", "replay-only", "off")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY,      -- sha256 of (settings, dialect, prompt)
    settings TEXT NOT NULL,    -- the backend's describe(), JSON
    dialect TEXT NOT NULL,
    prompt_sha256 TEXT NOT NULL,
    completion TEXT NOT NULL,
    tokens_in INTEGER, tokens_out INTEGER, latency REAL,
    created REAL NOT NULL
)"""


def cache_key(settings: dict[str, Any], dialect: str, prompt: str) -> str:
    blob = json.dumps({"settings": settings, "dialect": dialect, "prompt": prompt}, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Store:
    """A SQLite file of completions. One connection per thread; every write its own transaction."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._local = threading.local()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._conn() as db:
                db.execute(_SCHEMA)
        except sqlite3.DatabaseError as e:
            raise BackendError(f"cache {self.path}: not a usable SQLite cache ({e}); move it away or pass --cache-mode off") from None

    def _conn(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30.0)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def get(self, key: str) -> Completion | None:
        row = self._conn().execute(
            "SELECT completion, tokens_in, tokens_out FROM completions WHERE key = ?", (key,)).fetchone()
        return Completion(row[0], 0.0, row[1], row[2], cached=True) if row else None

    def put(self, key: str, settings: dict[str, Any], dialect: str, prompt: str, c: Completion) -> None:
        with self._conn() as db:
            db.execute(
                "INSERT OR REPLACE INTO completions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, json.dumps(settings, sort_keys=True), dialect,
                 hashlib.sha256(prompt.encode("utf-8")).hexdigest(), c.text, c.tokens_in, c.tokens_out,
                 c.latency, time.time()),
            )

    def delete(self, key: str) -> None:
        with self._conn() as db:
            db.execute("DELETE FROM completions WHERE key = ?", (key,))

    def __len__(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM completions").fetchone()[0]


class Cached:
    """A backend behind a memo (and a store): counts real calls, memo hits and store hits."""

    def __init__(self, inner: Backend, *, dialect: str = "", store: Store | None = None,
                 mode: str = "use", memo: bool = True):
        if mode not in MODES:
            raise BackendError(f"cache mode must be one of {MODES}, got {mode!r}")
        self.inner, self.name, self.is_llm = inner, inner.name, inner.is_llm
        self.dialect = dialect
        self.store = None if mode == "off" else store
        self.mode = mode
        self.memo: dict[str, Completion] | None = {} if memo else None  # prompt -> completion
        self.settings = inner.describe()
        self.calls = self.memo_hits = self.store_hits = 0
        self._lock = threading.Lock()

    @property
    def hits(self) -> int:
        return self.memo_hits + self.store_hits

    def complete(self, prompt: str) -> Completion:
        if self.memo is not None and (hit := self.memo.get(prompt)) is not None:
            self.memo_hits += 1
            return hit
        store = self.store
        key = cache_key(self.settings, self.dialect, prompt) if store is not None else ""
        answer = store.get(key) if store is not None and self.mode != "refresh" else None
        if answer is not None:
            with self._lock:
                self.store_hits += 1
        elif self.mode == "replay-only":
            where = store.path if store is not None else "(no cache file)"
            raise BackendError(f"cache replay-only: no stored completion for this prompt in {where}")
        else:
            answer = self.inner.complete(prompt)
            with self._lock:
                self.calls += 1
            if store is not None:
                store.put(key, self.settings, self.dialect, prompt, answer)
        if self.memo is not None:
            self.memo[prompt] = replace(answer, cached=True, latency=0.0)
        return answer

    def forget(self, prompt: str) -> None:
        """Drop a bad answer from the memo and the store, so the prompt's next ask is a real call."""
        if self.memo is not None:
            self.memo.pop(prompt, None)
        if self.store is not None and self.mode != "replay-only":  # replay-only never changes the file
            self.store.delete(cache_key(self.settings, self.dialect, prompt))

    def describe(self) -> dict[str, Any]:
        return self.settings
