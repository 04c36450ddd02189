"""Crash survival of the completion cache: a writer killed with SIGKILL, and writers racing on one file."""

import hashlib
import multiprocessing as mp
import sqlite3
import time

from llmvm.backends import Completion
from llmvm.backends.cache import Cached, Store


class Hashing:
    """A deterministic stand-in whose answer can be checked from the stored prompt hash alone."""

    name, is_llm = "hashing", True

    def complete(self, prompt: str) -> Completion:
        return Completion(expected(hashlib.sha256(prompt.encode()).hexdigest()))

    def describe(self) -> dict:
        return {"backend": self.name, "model": "h1", "temperature": 0.0}


def expected(prompt_sha256: str) -> str:
    return f"answer {prompt_sha256}"


def _writer(path: str, worker: int, n: int, go=None) -> None:
    """Ask ``n`` prompts of its own and ``n`` shared ones (forever when n < 0), through the cache."""
    cpu = Cached(Hashing(), store=Store(path), dialect="d")
    if go is not None:
        go.wait(30)  # start together with the other writers
    k = 0
    while k != n:
        cpu.complete(f"prompt {worker}-{k}")
        cpu.complete(f"shared {k}")
        k += 1


def rows(path) -> list[tuple[str, str]]:
    db = sqlite3.connect(path, timeout=30)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return db.execute("SELECT prompt_sha256, completion FROM completions").fetchall()
    finally:
        db.close()


def all_correct(path) -> int:
    found = rows(path)
    assert all(answer == expected(sha) for sha, answer in found), "a stored answer does not match its prompt"
    return len(found)


def test_a_writer_killed_mid_run_leaves_a_readable_cache(tmp_path):
    path = str(tmp_path / "c.sqlite")
    store = Store(path)
    for round_ in range(3):  # kill it at three different moments, each after more writes
        proc = mp.get_context("spawn").Process(target=_writer, args=(path, round_, -1))
        proc.start()
        deadline = time.monotonic() + 30
        while len(store) < 300 * (round_ + 1):
            assert proc.is_alive() and time.monotonic() < deadline
            time.sleep(0.01)
        proc.kill()
        proc.join()
        assert proc.exitcode == -9
        assert all_correct(path) >= 300 * (round_ + 1)
    again = Cached(Hashing(), store=Store(path), dialect="d")  # and the file takes new writes
    again.complete("after the crashes")
    assert again.calls == 1 and again.complete("shared 0").cached and all_correct(path) > 900


def test_two_processes_sharing_one_cache_both_finish_and_store_only_right_answers(tmp_path):
    path = str(tmp_path / "c.sqlite")
    Store(path)
    ctx = mp.get_context("spawn")
    go = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(path, w, 500, go)) for w in range(2)]
    for p in procs:
        p.start()
    go.set()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    assert all_correct(path) == 2 * 500 + 500  # each its own prompts, and the shared ones once
