"""Turing machine -> bi-tag system -> U15,2 tape, and back: every decoded result must equal the
direct simulation of the source machine."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmvm import accel, bitag, program, tapes, tm2bitag, u15
from llmvm.cli import cli
from llmvm.errors import ProgramError
from llmvm.program import Rule, TuringMachine
from llmvm.reference import simulate

SHIPPED = ["binary_increment", "bb2", "bb3", "bb4", "three_symbols", "unary_increment"]


def direct(machine: TuringMachine) -> tm2bitag.Result:
    out = simulate(machine, 10**6)
    assert out.status == "halted"
    return tm2bitag.Result.of(out.config, machine.blank)


def via_bitag(machine: TuringMachine) -> tm2bitag.Result:
    compiled = tm2bitag.compile_machine(machine)
    run = bitag.simulate(compiled.system, 10**7)
    assert run.halted
    return tm2bitag.decode(compiled.legend, run.word)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_machines_give_their_result_through_bitag(name):
    machine = program.load(f"programs/{name}.yaml")
    assert via_bitag(machine) == direct(machine)


def test_a_symbol_named_like_the_boundary_does_not_clash():
    machine = program.loads("""
blank: '0'
start state: A
input: [end, '1']
table:
  A: {end: {write: '1', L: B}, '1': R, '0': {write: end, R: Z}}
  B: {'0': {write: end, R: A}, '1': R, end: {R: Z}}
  Z:
""")
    assert via_bitag(machine) == direct(machine)


def random_machine(rng: random.Random) -> TuringMachine:
    """2-3 states plus a halting one, 2-3 symbols, moves L/R/stay, a random input and head."""
    symbols = ("0", "1", "2")[: rng.randint(2, 3)]
    states = ("A", "B", "C")[: rng.randint(2, 3)]
    table = {q: {s: Rule(rng.choice(symbols), rng.choice((-1, 1, 1, 0)), rng.choice((*states, "H")))
                 for s in symbols if rng.random() < 0.9} for q in states}
    table["H"] = {}
    inp = tuple(rng.choice(symbols) for _ in range(rng.randint(0, 4)))
    return TuringMachine("random", "0", "A", (*states, "H"), symbols, table, inp, rng.randint(-1, len(inp)))


def random_halting_machines(seed: int, n: int) -> list[TuringMachine]:
    rng, out = random.Random(seed), []
    while len(out) < n:
        m = random_machine(rng)
        if simulate(m, 60).status == "halted":
            out.append(m)
    return out


@pytest.mark.parametrize("machine", random_halting_machines(seed=3, n=120), ids=lambda m: m.digest()[:8])
def test_random_machines_give_their_result_through_bitag(machine):
    """Left and right growth, stays, three symbols, halting on a missing rule or in a halting state."""
    assert via_bitag(machine) == direct(machine)


@pytest.mark.parametrize("name", ["unary_increment", "bb2"])
def test_the_whole_chain_on_u15(name):
    """Compile to a U15,2 tape, run U15,2 (accelerated reference) to its halt, decode the tape."""
    machine = program.load(f"programs/{name}.yaml")
    compiled = tm2bitag.compile_machine(machine)
    out = accel.simulate(u15.machine(u15.encode(compiled.system)), 10**10, block=tapes.BLOCK)
    assert out.status == "halted" and out.config.state == "J" and out.config.head == 0
    cells = "".join(out.config.tape.get(p, "0") for p in range(max(out.config.tape) + 1))
    assert tm2bitag.decode(compiled.legend, u15.decode(compiled.system, cells)) == direct(machine)


@pytest.mark.parametrize("path", ["double", "unary_increment", "bb2"])
def test_shipped_tapes_halt_where_their_header_says(path):
    tf = tapes.load(f"programs/compiled/{path}.u15_2.yaml")
    machine = tapes.input_for(program.load("programs/u15_2.yaml"), tf, path)
    out = accel.simulate(machine, tf.expect["u15_2 steps"] + 1, block=tapes.BLOCK)
    assert out.status == "halted" and out.steps == tf.expect["u15_2 steps"]
    decoded = tapes.decode(tf, out.config)
    assert decoded["as expected"] and decoded["halting word"] == tf.expect["halting word"]


def test_a_tampered_tape_file_is_refused(tmp_path):
    text = Path("programs/compiled/double.u15_2.yaml").read_text()
    at = text.index("0101", text.index("\ncells:"))
    bad = tmp_path / "bad.yaml"
    bad.write_text(text[:at] + "0111" + text[at + 4:])  # one cell flipped
    with pytest.raises(ProgramError, match="sha256 does not match its header"):
        tapes.load(str(bad))
    with pytest.raises(ProgramError, match="a compiled tape runs on U15,2"):
        tapes.input_for(program.load("programs/bb2.yaml"), tapes.load("programs/compiled/double.u15_2.yaml"), "x")


def test_cli_compiles_and_runs_a_tape_on_the_llm_machine(tmp_path):
    runner = CliRunner()
    out = tmp_path / "double.yaml"
    r = runner.invoke(cli, ["compile", "programs/compiled/double.bitag.yaml", "-o", str(out), "--measure", "10000000"])
    assert r.exit_code == 0, r.output
    assert "U15,2 steps to the halt: 371,605" in r.output
    r = runner.invoke(cli, ["run", "programs/u15_2.yaml", "--input", str(out), "--backend", "oracle"])
    assert r.exit_code == 0, r.output
    assert "decoded  halting word: e2 a a a a a a b" in r.output and "decoded  as expected" in r.output
    r = runner.invoke(cli, ["compile", "programs/three_symbols.yaml", "--to", "bitag", "-o", str(tmp_path / "s.yaml")])
    assert r.exit_code == 0 and "result: state done, head on cell 0: [b] a a b" in r.output
    assert bitag.load(str(tmp_path / "s.yaml")).legend  # the legend travels with the bi-tag file


def test_cli_warns_when_the_limit_is_below_the_expected_halt():
    r = CliRunner().invoke(cli, ["simulate", "programs/u15_2.yaml", "--input", "programs/compiled/bb2.u15_2.yaml",
                                 "--max-steps", "1000"])
    assert r.exit_code == 3
    assert "stops this run before U15,2's expected halt at step 794,600,409" in r.output


def test_a_resumed_compiled_run_still_decodes_its_result(tmp_path):
    runner, ck = CliRunner(), str(tmp_path / "run.ckpt")
    r = runner.invoke(cli, ["run", "programs/u15_2.yaml", "--input", "programs/compiled/double.u15_2.yaml",
                            "--backend", "oracle", "--max-steps", "200000", "--checkpoint", ck])
    assert r.exit_code == 3, r.output  # the step limit, with a checkpoint
    r = runner.invoke(cli, ["resume", ck, "--max-steps", "400000"])
    assert r.exit_code == 0, r.output
    assert "decoded  halting word: e2 a a a a a a b" in r.output and "decoded  as expected" in r.output


def test_programs_lists_the_compiled_examples():
    r = CliRunner().invoke(cli, ["programs"])
    assert r.exit_code == 0
    assert "compiled/bb2.u15_2.yaml" in r.output and "halts after 794,600,409 steps" in r.output
    assert "compiled/double.bitag.yaml" in r.output and "bi-tag system, |A| = 2, |E| = 2" in r.output


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400), st.integers(0, 2000))
def test_a_mangled_tape_file_is_a_clean_error(tmp_path, junk, at):
    """Bad input, fuzzed: text spliced into a real tape file gives a ProgramError, never a crash."""
    text = Path("programs/compiled/double.u15_2.yaml").read_text()
    bad = tmp_path / "mangled.yaml"
    bad.write_text(text[:at] + junk + text[at + len(junk) // 2:], encoding="utf-8")
    try:
        loaded = tapes.load(str(bad))
    except ProgramError:
        assert junk, "the unchanged file must load"
    else:
        assert loaded.tape == tapes.load("programs/compiled/double.u15_2.yaml").tape  # the sha256 guards it
