"""The completion cache: keys, modes, counting, and concurrent writers sharing one file."""

import multiprocessing as mp

import pytest

from llmvm.backends import Completion
from llmvm.backends.cache import Cached, Store, cache_key
from llmvm.errors import BackendError


class Counting:
    """A deterministic stand-in that counts how often it is really asked."""

    name, is_llm = "counting", False

    def __init__(self, model="m1"):
        self.model, self.asked = model, 0

    def complete(self, prompt):
        self.asked += 1
        return Completion(f"answer to {prompt}", tokens_in=3)

    def describe(self):
        return {"backend": self.name, "model": self.model, "temperature": 0.0}


def test_memo_asks_each_prompt_once():
    inner = Counting()
    c = Cached(inner)
    answers = [c.complete(p).text for p in ["a", "b", "a", "a", "b"]]
    assert answers == ["answer to a", "answer to b", "answer to a", "answer to a", "answer to b"]
    assert (inner.asked, c.calls, c.memo_hits, c.store_hits) == (2, 2, 3, 0)
    assert c.complete("a").cached and not Cached(Counting()).complete("a").cached


def test_store_is_shared_between_runs(tmp_path):
    path = tmp_path / "c.sqlite"
    first = Cached(Counting(), store=Store(path), dialect="d")
    first.complete("p")
    second_inner = Counting()
    second = Cached(second_inner, store=Store(path), dialect="d")
    assert second.complete("p").text == "answer to p" and second_inner.asked == 0 and second.store_hits == 1


def test_key_covers_model_settings_and_dialect(tmp_path):
    path = tmp_path / "c.sqlite"
    Cached(Counting("m1"), store=Store(path), dialect="d").complete("p")
    for inner, dialect in [(Counting("m2"), "d"), (Counting("m1"), "other")]:
        c = Cached(inner, store=Store(path), dialect=dialect)
        c.complete("p")
        assert inner.asked == 1, "a different model or dialect must not reuse an answer"
    assert cache_key({"a": 1}, "d", "p") != cache_key({"a": 2}, "d", "p")


def test_modes(tmp_path):
    path = tmp_path / "c.sqlite"
    Cached(Counting(), store=Store(path)).complete("p")
    refresh_inner = Counting()
    Cached(refresh_inner, store=Store(path), mode="refresh").complete("p")
    assert refresh_inner.asked == 1
    replay = Cached(Counting(), store=Store(path), mode="replay-only")
    assert replay.complete("p").text == "answer to p"
    with pytest.raises(BackendError, match="replay-only: no stored completion"):
        replay.complete("never seen")
    off_inner = Counting()
    Cached(off_inner, store=Store(path), mode="off").complete("p")
    assert off_inner.asked == 1
    with pytest.raises(BackendError, match="cache mode must be one of"):
        Cached(Counting(), mode="sometimes")


def test_a_file_that_is_not_a_cache_is_a_clear_error(tmp_path):
    bad = tmp_path / "c.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(BackendError, match="not a usable SQLite cache"):
        Store(bad)


def _writer(path, worker, n):
    c = Cached(Counting(), store=Store(path), dialect="d")
    for k in range(n):
        c.complete(f"prompt {worker}-{k}")
        c.complete(f"shared {k}")


def test_concurrent_processes_share_one_file(tmp_path):
    path = tmp_path / "c.sqlite"
    Store(path)
    procs = [mp.get_context("spawn").Process(target=_writer, args=(path, w, 50)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    assert len(Store(path)) == 4 * 50 + 50
