"""Traces: the writer and reader, the terminal viewer, diff, the trace commands and the run options."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmvm import trace as trace_mod
from llmvm import traceview
from llmvm.backends.oracle import OracleBackend
from llmvm.cli import Progress, cli, main
from llmvm.compile import compile_machine
from llmvm.dialect import load as load_dialect
from llmvm.errors import TraceError
from llmvm.program import load
from llmvm.run import run
from llmvm.trace import Tape, TraceReader, keyframe_before, prompt_hash, traced_run
from tests.loopback import LoopbackServer

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-test-TRACE-KEY-MUST-NEVER-LEAK-9876543210"


def trace_of(path, program="bb4.yaml", input_=None, max_steps=10_000):
    """Write the trace of a shipped program run on the oracle; return the run's result."""
    machine = load(ROOT / "programs" / program)
    if input_ is not None:
        machine = machine.with_input(tuple(input_))
    image = compile_machine(machine, load_dialect("schuurmans"))
    return traced_run(path, image, OracleBackend(dialect=image.dialect), max_steps=max_steps, program=program)


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def bb4(tmp_path):
    path = tmp_path / "bb4.jsonl"
    trace_of(path)
    return path


# ------------------------------------------------------------------------------ writer and reader


def test_round_trip_bb4(bb4):
    records = list(TraceReader(bb4))
    header, footer = records[0], records[-1]
    machine = load(ROOT / "programs" / "bb4.yaml")
    assert (header["type"], header["format"], header["version"]) == ("header", "llmvm-trace", 1)
    assert header["digest"] == machine.digest() and header["dialect"] == "schuurmans"
    assert header["backend"] == "oracle (deterministic, not an LLM)" and header["is_llm"] is False
    assert (header["state"], header["head"], header["tape"]) == ("A", 0, {})
    steps = [r for r in records if r["type"] == "step"]
    assert [s["n"] for s in steps] == list(range(1, 108))
    assert footer == {**footer, "type": "footer", "status": "halted", "steps": 107, "calls": 8, "cache_hits": 99}
    assert sum(not s["cached"] for s in steps) == 8
    # the tape replayed from the header and the writes is the machine's final tape
    tape = Tape(header)
    for s in steps:
        assert tape.head == s["head"] and tape.cells.get(s["head"], "0") == s["read"]
        tape.apply(s)
    assert sum(v == "1" for v in tape.cells.values()) == 13 and tape.head == footer["head"]


def test_prompts_are_stored_once_before_first_use(bb4):
    machine = load(ROOT / "programs" / "bb4.yaml")
    image = compile_machine(machine, load_dialect("schuurmans"))
    sent: set[str] = set()
    run(image, OracleBackend(dialect=image.dialect), max_steps=1000, observers=(lambda s: sent.add(s.prompt),))
    seen: dict[str, str] = {}
    for r in TraceReader(bb4):
        if r["type"] == "prompt":
            assert r["hash"] not in seen and r["hash"] == prompt_hash(r["text"])
            seen[r["hash"]] = r["text"]
        elif r["type"] == "step":
            assert r["prompt"] in seen
    assert sorted(seen.values()) == sorted(sent) and len(seen) == 8


def test_a_cut_off_last_line_is_the_end(bb4, tmp_path):
    data = bb4.read_bytes()
    for cut in (len(data) - 5, data.rindex(b'{"type":"step"') + 30):
        path = tmp_path / "cut.jsonl"
        path.write_bytes(data[:cut])
        reader = TraceReader(path)
        records = list(reader)
        assert reader.truncated and reader.footer is None and records[-1]["type"] in ("step", "prompt")
    assert "truncated" in invoke("trace", "show", path, "--step", 100).output


def test_a_killed_run_leaves_a_readable_trace(tmp_path):
    path = tmp_path / "killed.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "llmvm.cli", "run", str(ROOT / "programs" / "bb5.yaml"), "-b", "oracle",
            "--no-check", "--trace", str(path), "-q"]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while (not path.exists() or path.stat().st_size < 100_000) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        proc.kill()  # SIGKILL: no chance to write a footer
        proc.wait()
    reader = TraceReader(path)
    steps = [r["n"] for r in reader if r["type"] == "step"]
    assert reader.footer is None and len(steps) > 100 and steps == list(range(1, len(steps) + 1))
    assert "no footer: the run did not finish" in invoke("trace", "show", path).output


@pytest.mark.parametrize("damage, line, message", [
    (lambda lines: lines.insert(4, b"garbage"), 5, "not a JSON line"),
    (lambda lines: lines.insert(3, b'{"type": "stpe"}'), 4, "not a trace record"),
    (lambda lines: lines.insert(6, b'{"type": "step", "n": "7"}'), 7, "'n' missing or not a int"),
    (lambda lines: lines.insert(2, lines[0]), 3, "a second header"),
    (lambda lines: lines.pop(0), 1, "the first line must be the header"),
    (lambda lines: lines.append(lines[-1]), 118, "a record after the footer"),
])
def test_damage_is_a_trace_error_naming_file_and_line(bb4, damage, line, message):
    lines = bb4.read_bytes().splitlines()
    damage(lines)
    bb4.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(TraceError, match=rf"bb4.jsonl:{line}: .*{message}"):
        list(TraceReader(bb4))


def test_bad_writes_and_versions_are_refused(bb4):
    lines = bb4.read_text().splitlines()
    step = json.loads(lines[2])
    for bad in ([["i", "3"]], [["x y", "1"]], [["op"]]):
        lines[2] = json.dumps({**step, "writes": bad})
        bb4.write_text("\n".join(lines) + "\n")
        with pytest.raises(TraceError, match="bad write"):
            list(TraceReader(bb4))
    lines[0] = lines[0].replace('"version":1', '"version":2')
    bb4.write_text("\n".join(lines) + "\n")
    with pytest.raises(TraceError, match="version 2; this llmvm reads 'llmvm-trace' version 1"):
        list(TraceReader(bb4))


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "empty.jsonl").write_bytes(b"")
    with pytest.raises(TraceError, match="no header"):
        list(TraceReader(tmp_path / "empty.jsonl"))
    with pytest.raises(TraceError, match="no such trace file"):
        TraceReader(tmp_path / "nope.jsonl")


BB2 = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False).name  # a valid trace to mangle
trace_of(BB2, "bb2.yaml")
VALID = Path(BB2).read_bytes()
os.unlink(BB2)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.binary(max_size=3000),
    st.tuples(st.integers(0, len(VALID)), st.binary(max_size=200), st.integers(0, len(VALID)))
    .map(lambda t: VALID[:t[0]] + t[1] + VALID[t[2]:]),
    st.lists(st.sampled_from(VALID.splitlines(keepends=True)), max_size=12).map(b"".join),
))
def test_any_bytes_read_cleanly_or_raise_trace_error(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.jsonl"
        path.write_bytes(data)
        try:
            list(TraceReader(path))
            "\n".join(traceview.show(path, limit=0))
            "\n".join(traceview.full(path, 3))
        except TraceError:
            pass


# ------------------------------------------------------------------------------ viewer


def rows(output: str) -> list[list[str]]:
    """The step table's rows, split into columns."""
    return [line.split() for line in output.splitlines() if line[:8].strip().isdigit()]


def test_show_summary_and_table_with_head_marker(bb4):
    out = "\n".join(traceview.show(bb4, limit=5))
    assert "BB(4) (bb4.yaml)" in out and "halted after 107 steps: 8 calls, 99 cache hits" in out
    table = rows(out)
    assert [r[0] for r in table] == ["1", "2", "3", "4", "5"]
    assert table[0][:4] == ["1", "A", "0", "0"] and "[0]" in table[0] and "→B" in out
    assert "more steps follow (go on with --step 6)" in out


def test_show_jumps_filters_and_limits(bb4):
    assert [r[0] for r in rows("\n".join(traceview.show(bb4, start=100, limit=3)))] == ["100", "101", "102"]
    table = rows("\n".join(traceview.show(bb4, state="C", limit=0)))
    assert table and all(r[1] == "C" for r in table)
    calls = rows("\n".join(traceview.show(bb4, calls_only=True, limit=0)))
    assert len(calls) == 8 and all("call" in r for r in calls)
    assert "(no step matches)" in "\n".join(traceview.show(bb4, state="nope"))


def test_full_step_shows_prompt_completion_and_writes(bb4):
    out = "\n".join(traceview.full(bb4, 3))
    step = next(r for r in TraceReader(bb4) if r.get("n") == 3)
    prompt = next(r["text"] for r in TraceReader(bb4) if r["type"] == "prompt" and r["hash"] == step["prompt"])
    assert f"step     3: state {step['state']}" in out
    assert all(f"  | {line}" in out for line in prompt.splitlines())
    assert f"answer   {step['completion']!r}" in out and "writes   op := " in out and "after" in out
    assert "no step 500" in "\n".join(traceview.full(bb4, 500))


def test_tape_records_let_the_viewer_jump_exactly(tmp_path, monkeypatch):
    monkeypatch.setattr(trace_mod, "KEYFRAME", 20)  # BB(4) touches 14 cells: a tape record every 20 steps
    path = tmp_path / "bb4.jsonl"
    trace_of(path)
    assert [r["n"] for r in TraceReader(path) if r["type"] == "tape"] == [20, 40, 60, 80, 100]
    assert keyframe_before(path, 20) is None and keyframe_before(path, 21).record["n"] == 20
    mark = keyframe_before(path, 107)
    assert mark.record["n"] == 100 and path.read_bytes().splitlines()[mark.line - 1].startswith(b'{"type":"tape","n":100')
    linear = rows("\n".join(traceview.show(path, limit=0)))
    for n in (1, 20, 21, 50, 101, 107):
        assert rows("\n".join(traceview.show(path, start=n, limit=0))) == linear[n - 1:]
    assert "answer" in "\n".join(traceview.full(path, 104))


# ------------------------------------------------------------------------------ diff


def test_diff_names_the_first_differing_step(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    trace_of(a, "binary_increment.yaml", input_="1011")
    trace_of(b, "binary_increment.yaml", input_="1001")
    steps_a = [r for r in TraceReader(a) if r["type"] == "step"]
    steps_b = [r for r in TraceReader(b) if r["type"] == "step"]
    first = next(x["n"] for x, y in zip(steps_a, steps_b) if any(x[k] != y[k] for k in traceview.COMPARED))
    same, lines = traceview.diff(a, b)
    out = "\n".join(lines)
    assert not same and f"first difference at step {first}:" in out
    assert "digests differ" in out and sum(line.startswith(("a  ", "b  ")) for line in lines) >= 4
    assert traceview.diff(a, a)[0] and "identical" in traceview.diff(a, a)[1][-1]


def test_diff_of_a_shorter_trace(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    trace_of(a, max_steps=50)
    trace_of(b)
    same, lines = traceview.diff(a, b)
    assert not same and "a ends after 50 steps (step-limit); b goes on:" in "\n".join(lines)


# ------------------------------------------------------------------------------ commands


def test_run_trace_then_show_html_and_diff_commands(tmp_path):
    t = tmp_path / "run.jsonl"
    r = invoke("run", ROOT / "programs" / "bb3.yaml", "-b", "oracle", "--trace", t, "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["cycles"] == 21
    r = invoke("trace", "show", t, "--step", 5, "--limit", 2)
    assert r.exit_code == 0 and [row[0] for row in rows(r.output)] == ["5", "6"]
    r = invoke("trace", "show", t, "--full", 2)
    assert r.exit_code == 0 and "prompt" in r.output and "answer" in r.output
    r = invoke("trace", "html", t, "-o", tmp_path / "run.html")
    assert r.exit_code == 0 and "21 of 21 steps drawn" in r.output and (tmp_path / "run.html").exists()
    assert invoke("trace", "diff", t, t).exit_code == 0
    u = tmp_path / "other.jsonl"
    invoke("run", ROOT / "programs" / "bb3.yaml", "-b", "oracle", "--trace", u, "--input", "1", "-q")
    r = invoke("trace", "diff", t, u)
    assert r.exit_code == 1 and "first difference at step 1: read" in r.output


def test_a_broken_trace_is_one_clean_error(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "header"}\n')
    monkeypatch.setattr("sys.argv", ["llmvm", "trace", "show", str(bad)])
    with pytest.raises(SystemExit) as e:
        main()
    err = capsys.readouterr().err
    assert e.value.code == 2 and f"{bad}:1: header record: 'format' missing" in err and "Traceback" not in err


def test_quiet_prints_nothing_and_json_is_the_result():
    r = invoke("run", ROOT / "programs" / "bb3.yaml", "-b", "oracle", "-q")
    assert r.exit_code == 0 and r.stdout == ""
    r = invoke("run", ROOT / "programs" / "bb3.yaml", "-b", "oracle", "--json")
    assert json.loads(r.stdout)["status"] == "halted"


def test_progress_line_shows_rate_calls_hits_state_and_is_throttled(capsys):
    machine = load(ROOT / "programs" / "bb4.yaml")
    image = compile_machine(machine, load_dialect("schuurmans"))
    from llmvm.backends.cache import Cached

    cpu = Cached(OracleBackend(dialect=image.dialect))
    progress = Progress(True, cpu)
    progress.shown -= 1  # the first report is due
    run(image, cpu, max_steps=1000, progress=progress)
    progress.done()
    err = capsys.readouterr().err
    assert err.count("cycle ") == 1  # one line in all: 107 cycles take far less than 0.25 s
    assert "cycles/s  1 calls  0 cache hits  state B" in err and err.endswith(" \r")  # then cleared


def test_the_api_key_never_reaches_a_trace(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("LLMVM_API_KEY", KEY)
    t = tmp_path / "openai.jsonl"
    with LoopbackServer() as server:
        r = invoke("run", ROOT / "programs" / "bb4.yaml", "-b", "openai", "-o", "model=test-model",
                   "-o", f"base_url={server.url}", "-o", "backoff=0.01", "--cache-mode", "off", "--trace", t, "-q")
        assert r.exit_code == 0, r.output
        assert KEY in server.requests[0]["headers"]["authorization"]  # the key was in use
    raw = t.read_bytes()
    assert KEY.encode() not in raw and b"sk-test" not in raw
    header = next(iter(TraceReader(t)))
    assert header["is_llm"] and header["model"] == "test-model" and header["settings"]["temperature"] == 0.0
    calls = [r for r in TraceReader(t) if r["type"] == "step" and not r["cached"]]
    assert len(calls) == 8 and all(c["tokens_in"] > 0 and c["latency"] > 0 for c in calls)


def test_redact_drops_secret_settings():
    settings = {"model": "m", "api_key": "k", "headers": {"Authorization": "Bearer k"}, "extra": {"token_secret": 1, "x": 2}}
    assert trace_mod.redact(settings) == {"model": "m", "extra": {"x": 2}}


def test_a_resumed_run_writes_a_trace_that_starts_where_it_stands(tmp_path):
    """run --checkpoint stops at cycle 50 of BB(4); resume --trace records cycles 51..107 from the saved tape."""
    runner, ck = CliRunner(), str(tmp_path / "bb4.ckpt")
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    r = runner.invoke(cli, ["run", "programs/bb4.yaml", "--backend", "oracle", "--max-steps", "50",
                            "--checkpoint", ck, "--trace", str(first)])
    assert r.exit_code == 3, r.output
    r = runner.invoke(cli, ["resume", ck, "--max-steps", "1000", "--trace", str(second)])
    assert r.exit_code == 0, r.output
    header, *rest = TraceReader(second)
    steps = [rec for rec in rest if rec["type"] == "step"]
    assert header["resumed"] == {"cycle": 50} and [s["n"] for s in steps] == list(range(51, 108))
    tape = Tape(TraceReader(first).header)  # replay the first part, then the second: one whole run
    for rec in TraceReader(first):
        if rec["type"] == "step":
            tape.apply(rec)
    assert {int(k): v for k, v in header["tape"].items()} == {p: s for p, s in tape.cells.items() if s != "0"}
    assert header["head"] == tape.head
    for rec in steps:
        tape.apply(rec)
    ones = sum(1 for s in tape.cells.values() if s == "1")
    assert ones == 13 and rest[-1]["type"] == "footer" and rest[-1]["status"] == "halted"
    r = runner.invoke(cli, ["trace", "show", str(second)])
    assert r.exit_code == 0 and "(resumed after cycle 50)" in r.output, r.output
