"""The command line, as a user meets it: output, exit codes, and clear errors."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmvm.cli import cli, main

ROOT = Path(__file__).resolve().parent.parent


def invoke(*args):
    """Run a command; commands that need a CPU get the oracle unless the test names another."""
    args = [str(a) for a in args]
    if args[0] in ("run", "verify") and "--backend" not in args:
        args += ["--backend", "oracle"]
    return CliRunner().invoke(cli, args)


def test_run_reports_status_state_tape_and_calls():
    r = invoke("run", ROOT / "programs" / "bb4.yaml")
    assert r.exit_code == 0, r.output
    assert "oracle (deterministic, not an LLM)" in r.output
    assert "halted after 107 cycles (checked against the reference at every cycle)" in r.output
    assert "13 non-blank cells" in r.output and "8 backend calls" in r.output


def test_run_json():
    r = invoke("run", "1RB1LB_1LA1RZ", "--json")
    d = json.loads(r.output)
    assert (d["status"], d["cycles"], d["nonblank"], d["is_llm"]) == ("halted", 6, 4, False)


def test_run_with_input_and_step_limit():
    r = invoke("run", ROOT / "programs" / "binary_increment.yaml", "--input", "111", "--json")
    assert json.loads(r.output)["tape"] == "1000"
    r = invoke("run", ROOT / "programs" / "bb4.yaml", "--max-steps", "10")
    assert r.exit_code == 3 and "step-limit after 10 cycles" in r.output


def test_simulate():
    r = invoke("simulate", ROOT / "programs" / "bb3.yaml", "--json")
    assert r.exit_code == 0
    assert json.loads(r.output)["steps"] == 21


def test_programs_and_backends_lists():
    r = invoke("programs")
    assert "u15_2.yaml" in r.output and "bb4.yaml" in r.output and "invalid" not in r.output
    r = invoke("backends")
    assert "oracle" in r.output and "deterministic, not an LLM" in r.output


@pytest.mark.parametrize("args, message", [
    (["run", "nope.yaml"], "nope.yaml: no such program file"),
    (["run", "1RB1LB_1LA1RZ", "--backend", "gpt-9"], "no backend named 'gpt-9'"),
    (["run", "1RB1LB_1LA1RZ", "-b", "oracle", "--dialect", "klingon"], "no dialect 'klingon'"),
    (["run", "1RB1LB_1LA1RZ", "-b", "oracle", "--input", "12"], "symbol(s) '2' are not in the machine's alphabet"),
])
def test_errors_are_one_clean_line_and_exit_2(args, message, capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", ["llmvm", *args])
    with pytest.raises(SystemExit) as e:
        main()
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_yaml_names_file_and_line(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bad.yaml"
    bad.write_text("blank: 0\nstart state: a\ntable:\n  a:\n    1: {write: 0, R: b}\n")
    monkeypatch.setattr("sys.argv", ["llmvm", "simulate", str(bad)])
    with pytest.raises(SystemExit):
        main()
    assert f"{bad}:5: state 'a', symbol '1': next state 'b' is not defined" in capsys.readouterr().err
