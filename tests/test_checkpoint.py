"""Checkpoints: a run killed at any moment resumes to exactly the uninterrupted end; bad files are refused."""

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from llmvm import backends
from llmvm.checkpoint import Checkpointer, Setup, load, rebuild
from llmvm.cli import main
from llmvm.compile import compile_machine
from llmvm.dialect import load as load_dialect
from llmvm.errors import CheckpointError, LLMVMError
from llmvm.program import load as load_program
from llmvm.run import run

ROOT = Path(__file__).resolve().parent.parent
U15 = ROOT / "programs" / "u15_2.yaml"
U15_CYCLES = 11_850


def image(program: Path = U15):
    return compile_machine(load_program(program), load_dialect("schuurmans"))


def oracle(img):
    return backends.create("oracle", dialect=img.dialect)


def setup(program: Path = U15, **kw) -> Setup:
    kw = {"dialect": "schuurmans", "backend": "oracle", "options": (), "cache": "c.sqlite", "cache_mode": "off",
          "max_steps": 100_000, **kw}
    return Setup.create(str(program), **kw)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The final checkpoint of an uninterrupted U15,2 run: memory, cycles, reference."""
    path = tmp_path_factory.mktemp("ref") / "end.json"
    img = image()
    result = run(img, oracle(img), max_steps=100_000, checkpoint=Checkpointer(path, setup()))
    assert (result.status, result.cycles) == ("halted", U15_CYCLES)
    return load(path)


def same_end(ck, ref) -> None:
    assert (ck.status, ck.resume.cycle) == ("halted", ref.resume.cycle)
    assert ck.resume.memory == ref.resume.memory
    assert ck.resume.reference == ref.resume.reference


# ------------------------------------------------------------------------------ in process


@pytest.mark.parametrize("memo, check, cut", [
    (True, True, 1), (True, True, 777), (True, True, U15_CYCLES - 1),
    (False, True, 5_000), (True, False, 3_001), (False, False, 9_999),
])
def test_stop_anywhere_and_resume_ends_exactly_the_same(tmp_path, uninterrupted, memo, check, cut):
    path = tmp_path / "ck.json"
    img = image()
    s = setup(check=check, memo=memo, max_steps=cut)
    first = run(img, oracle(img), max_steps=cut, check=check, memo=memo, checkpoint=Checkpointer(path, s))
    assert (first.status, first.cycles) == ("step-limit", cut)
    ck = load(path)
    assert (ck.status, ck.resume.cycle, ck.setup.max_steps) == ("step-limit", cut, cut)
    assert (ck.resume.reference is not None) == check
    img = rebuild(ck)
    rest = run(img, oracle(img), max_steps=100_000, check=check, memo=memo, start=ck.resume,
               checkpoint=Checkpointer(path, replace(ck.setup, max_steps=100_000)))
    assert (rest.status, rest.cycles) == ("halted", U15_CYCLES)
    end = load(path)
    assert end.resume.memory == uninterrupted.resume.memory
    if check:
        same_end(end, uninterrupted)


def test_saves_every_n_cycles(tmp_path):
    img = image()
    saver = Checkpointer(tmp_path / "ck.json", setup(every=1000, memo=False))
    run(img, oracle(img), max_steps=100_000, memo=False, checkpoint=saver)
    assert saver.saves == 1 + U15_CYCLES // 1000 + 1  # as it starts, every 1000 cycles, as it ends


def test_a_halted_checkpoint_resumes_to_the_same_end(tmp_path, uninterrupted):
    img = rebuild(uninterrupted)
    result = run(img, oracle(img), max_steps=100_000, start=uninterrupted.resume)
    assert (result.status, result.cycles, result.calls) == ("halted", U15_CYCLES, 0)


def test_no_secret_options_are_kept():
    s = setup(options=("model=m", "api_key=sk-1", "API-TOKEN=t", "password=p", "base_url=http://x",
                       "base_url=https://user:sk-2@host/v1"))
    assert s.options == ("model=m", "base_url=http://x")


# ------------------------------------------------------------------------------ bad files


@pytest.fixture
def good(tmp_path):
    """A valid checkpoint of BB(4) at cycle 50, and a copy of the program it names."""
    program = tmp_path / "bb4.yaml"
    program.write_bytes((ROOT / "programs" / "bb4.yaml").read_bytes())
    img = image(program)
    path = tmp_path / "ck.json"
    run(img, oracle(img), max_steps=50, checkpoint=Checkpointer(path, setup(program, max_steps=50)))
    return path


def rewrite(path: Path, edit, *, rehash: bool) -> None:
    """Edit a checkpoint's body; with ``rehash`` also fix its sha256 (a deliberate forgery)."""
    doc = json.loads(path.read_text())
    edit(doc["body"])
    if rehash:  # the documented recipe: sha256 of the body's canonical JSON
        canonical = json.dumps(doc["body"], sort_keys=True, separators=(",", ":")).encode()
        doc["sha256"] = hashlib.sha256(canonical).hexdigest()
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize("content, message", [
    (b"", "truncated or not JSON"),
    (b"\x00\xff\xfe binary \x89PNG", "truncated or not JSON"),
    (b"[" * 100_000, "truncated or not JSON"),
    (b'{"format": "llmvm-checkpoint", "version": 1, "sha256": "ab', "truncated or not JSON"),
    (b'{"hello": "world"}', "not an llmvm checkpoint"),
    (b"[1, 2, 3]", "not an llmvm checkpoint"),
    (b'{"format": "llmvm-checkpoint", "version": 2}', "version 2, but this llmvm reads version 1"),
    (b'{"format": "llmvm-checkpoint", "version": 1, "sha256": "00", "body": {}}', "sha256 does not match"),
])
def test_foreign_and_corrupt_files_are_refused(tmp_path, content, message):
    path = tmp_path / "ck.json"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message) as e:
        load(path)
    assert str(path) in str(e.value)


def test_a_truncated_checkpoint_is_refused(good):
    data = good.read_bytes()
    for cut in (1, len(data) // 3, len(data) - 1):
        good.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="truncated or not JSON"):
            load(good)


def test_an_edited_checkpoint_is_refused(good):
    rewrite(good, lambda b: b["memory"].update({"0": "0"}), rehash=False)
    with pytest.raises(CheckpointError, match="sha256 does not match its contents"):
        load(good)


@pytest.mark.parametrize("edit, message", [
    (lambda b: b.update(cycle="x"), "cycle is missing or not a int"),
    (lambda b: b.update(cycle=-1), "cycle is negative"),
    (lambda b: b["setup"].pop("backend"), "setup.backend is missing"),
    (lambda b: b["setup"].update(options=[1]), "KEY=VALUE"),
    (lambda b: b["memory"].update(op=None), "memory values"),
    (lambda b: b["reference"]["tape"].update({"x": "1"}), "reference.tape"),
    (lambda b: b.update(reference=None), "checks the reference but saved no reference"),
])
def test_a_forged_checkpoint_with_bad_fields_is_refused(good, edit, message):
    rewrite(good, edit, rehash=True)
    with pytest.raises(CheckpointError, match=message):
        load(good)


@pytest.mark.parametrize("edit, message", [
    (lambda b: b["memory"].update(A="op=\"halt\""), "changed label 'A'"),
    (lambda b: b["memory"].update(made_up="x"), "unknown label 'made_up'"),
    (lambda b: b["memory"].update(op="not an instruction"), "op or i"),
    (lambda b: b["memory"].update({"3": "7"}), "outside the alphabet"),
    (lambda b: b["reference"].update(state="nowhere"), "unknown state 'nowhere'"),
])
def test_a_forged_memory_is_refused(good, edit, message):
    rewrite(good, edit, rehash=True)
    with pytest.raises(CheckpointError, match=message):
        rebuild(load(good))


def test_a_changed_or_missing_program_is_refused(good):
    program = Path(load(good).setup.program)
    program.write_text(program.read_text() + "\n# edited\n")
    with pytest.raises(CheckpointError, match="has changed since the checkpoint was written"):
        rebuild(load(good))
    program.unlink()
    with pytest.raises(CheckpointError, match=f"{program} is missing or has changed"):
        rebuild(load(good))


def test_an_unwritable_checkpoint_stops_the_run_before_any_work(tmp_path):
    img = image()
    saver = Checkpointer(tmp_path / "no such dir" / "ck.json", setup())
    with pytest.raises(CheckpointError, match="cannot write the checkpoint"):
        run(img, oracle(img), max_steps=10, checkpoint=saver)


def test_resume_of_a_bad_file_is_one_clean_error(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "ck.json"
    bad.write_text('{"format": "llmvm-checkpoint", "version": 1, "sha256": "0", "body": {"a": 1}}')
    monkeypatch.setattr("sys.argv", ["llmvm", "resume", str(bad)])
    with pytest.raises(SystemExit) as e:
        main()
    err = capsys.readouterr().err
    assert e.value.code == 2 and str(bad) in err and "sha256" in err and "Traceback" not in err


def test_checkpoint_error_is_an_llmvm_error():
    assert issubclass(CheckpointError, LLMVMError)


# ------------------------------------------------------------------------------ processes


def llmvm(*args: object, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "llmvm.cli", *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "cache")}


def saved_cycle(path: Path) -> int:
    """The cycle of the checkpoint now in ``path`` (-1 before the first), which must always load."""
    return load(path).resume.cycle if path.exists() else -1


def wait_until(condition, proc: subprocess.Popen, timeout: float = 20.0) -> bool:
    """Poll until ``condition()``; False if the process ended first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            return False
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.005)
    return True


def test_sigkill_at_random_times_then_resume_ends_exactly_like_an_uninterrupted_run(tmp_path, env, uninterrupted):
    """Kill -9 a run four times at random moments; resuming each time ends exactly where it should."""
    path = tmp_path / "run.json"
    rng = random.Random(20240501)
    command = ["run", U15, "-b", "oracle", "--no-memo", "--checkpoint", path, "--checkpoint-every", 100]
    seen: list[int] = []
    for _ in range(4):
        before = saved_cycle(path)
        proc = llmvm(*command, env=env)
        if not wait_until(lambda: saved_cycle(path) > before, proc):
            break  # it finished before we could kill it: fine, the end is checked below
        time.sleep(rng.uniform(0.0, 0.08))
        proc.kill()
        proc.communicate()
        seen.append(saved_cycle(path))  # a checkpoint that loads: never torn by the kill
        command = ["resume", path]
    assert len(seen) >= 2 and 0 < seen[0] < U15_CYCLES, seen
    out, err = llmvm(*command, "--json", env=env).communicate(timeout=60)
    assert json.loads(out)["cycles"] == U15_CYCLES, err
    same_end(load(path), uninterrupted)


def test_ctrl_c_writes_a_checkpoint_that_resumes(tmp_path, env, uninterrupted):
    path = tmp_path / "run.json"
    proc = llmvm("run", U15, "-b", "oracle", "--no-memo", "--checkpoint", path, "--checkpoint-seconds", 0, env=env)
    assert wait_until(path.exists, proc)
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1 and "status   interrupted" in out, (out, err)
    assert f"llmvm resume {path}" in err
    ck = load(path)
    assert ck.status == "interrupted" and 0 < ck.resume.cycle < U15_CYCLES
    out, err = llmvm("resume", path, env=env).communicate(timeout=60)
    assert "halted after 11,850 cycles" in out, err
    same_end(load(path), uninterrupted)
