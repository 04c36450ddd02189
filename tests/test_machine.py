"""Differential tests: every program through the LLM machine (oracle CPU) and the reference, in lockstep."""

import json
from pathlib import Path

import pytest

from llmvm import backends
from llmvm.backends.oracle import OracleBackend
from llmvm.backends.replay import ReplayBackend
from llmvm.compile import compile_machine
from llmvm.dialect import available, load as load_dialect
from llmvm.errors import CompletionError
from llmvm.program import load, tape_string
from llmvm.reference import Reference, simulate
from llmvm.run import run
from llmvm.vm import VM

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = sorted((ROOT / "programs").glob("*.yaml"))
VM_LIMIT = 200_000  # cycles: longer programs (BB(5)) get a lockstep prefix instead, below
SCHUURMANS = load_dialect("schuurmans")


def image_of(program, dialect=SCHUURMANS):
    machine = program if not isinstance(program, (str, Path)) else load(program)
    return compile_machine(machine, dialect)


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_reference_meets_expectations(path):
    """Each program's `expect` block holds results known independently (literature, by hand)."""
    m = load(path)
    assert m.expect, f"{path.name} should say what it computes in an expect block"
    out = simulate(m, 10**8)
    exp = m.expect
    assert (out.status == "halted") == exp.get("halted", True)
    assert out.steps == exp["steps"]
    if "nonblank" in exp:
        assert sum(1 for s in out.config.tape.values() if s != m.blank) == exp["nonblank"]
    if "tape" in exp:
        assert tape_string(out.config.tape, m.blank) == exp["tape"]
    for key in ("head", "state"):
        if key in exp:
            assert getattr(out.config, key) == exp[key]


@pytest.mark.parametrize("dialect", available())
@pytest.mark.parametrize("path", [p for p in PROGRAMS if load(p).expect["steps"] <= VM_LIMIT], ids=lambda p: p.name)
def test_llm_machine_agrees_with_reference_every_cycle(path, dialect):
    image = image_of(path, load_dialect(dialect))
    result = run(image, OracleBackend(dialect=image.dialect), max_steps=VM_LIMIT, check=True)
    assert result.status == "halted", result.error
    ref = simulate(image.machine, VM_LIMIT)
    # a machine that halts for want of a rule spends one last cycle answering op="halt"
    halts_on_missing_rule = not image.machine.is_halting(ref.config.state)
    assert result.cycles == ref.steps + halts_on_missing_rule
    assert (result.config.state, result.config.head, dict(result.config.tape)) == (
        ref.config.state, ref.config.head, dict(ref.config.tape))
    assert result.calls <= len(image.cases)  # at most one real call per distinct prompt
    assert not result.is_llm and "not an LLM" in result.backend


def test_bb5_prefix_in_lockstep():
    """BB(5) is too long for the LLM machine in a test; its first 20,000 cycles are checked."""
    image = image_of(ROOT / "programs" / "bb5.yaml")
    result = run(image, OracleBackend(dialect=image.dialect), max_steps=20_000, check=True)
    assert (result.status, result.cycles) == ("step-limit", 20_000)


def test_bb4_halts_after_107_steps_with_13_ones():
    image = image_of(ROOT / "programs" / "bb4.yaml")
    result = run(image, OracleBackend(dialect=image.dialect), max_steps=1000)
    assert (result.status, result.cycles) == ("halted", 107)
    assert sum(1 for s in result.config.tape.values() if s == "1") == 13
    assert result.calls == 8 and result.cache_hits == 99  # one call per distinct prompt


def test_u15_2_demo_halts_with_29_distinct_prompts():
    image = image_of(ROOT / "programs" / "u15_2.yaml")
    result = run(image, OracleBackend(dialect=image.dialect), max_steps=100_000)
    assert result.status == "halted", result.error
    assert (result.config.state, result.config.head) == ("J", 0)
    assert result.calls == 29 == len(image.cases)


def test_three_symbol_machine_needs_two_conditions_per_state():
    image = image_of(ROOT / "programs" / "three_symbols.yaml")
    text = image.instructions["swap"]
    assert text.count("if @[@[i]]==") == 2


def recorded(image, n):
    """The first n completions a perfect CPU gives for this image, as replay records."""
    vm = VM(image.memory(), OracleBackend(dialect=image.dialect), image.harness())
    return [{"completion": s.completion.text} for _, s in zip(range(n), vm.steps())]


def test_bad_completion_stops_with_step_prompt_and_output_and_changes_nothing():
    image = image_of(ROOT / "programs" / "bb4.yaml")
    records = recorded(image, 3) + [{"completion": "I think the answer is B"}]
    vm = VM(image.memory(), ReplayBackend(records=records), image.harness())
    steps = vm.steps()
    for _ in range(3):
        next(steps)
    before = dict(vm.memory)
    with pytest.raises(CompletionError) as err:
        next(steps)
    assert vm.memory == before and vm.cycle == 3
    message = str(err.value)
    assert "step 4:" in message and "I think the answer is B" in message and "$result" in message


def test_bad_completion_is_a_run_status():
    image = image_of(ROOT / "programs" / "bb4.yaml")
    records = recorded(image, 2) + [{"completion": 'op="%[A]" boot="x"'}]
    result = run(image, ReplayBackend(records=records), max_steps=100, memo=False)
    assert result.status == "bad-completion" and result.cycles == 2
    assert "does not allow writing 'boot'" in result.error


def test_divergence_names_the_cycle_and_both_configurations():
    """A parseable, allowed, but wrong answer (wrong symbol written) is caught at once."""
    image = image_of(ROOT / "programs" / "bb4.yaml")
    records = recorded(image, 5)
    records[3] = {"completion": records[3]["completion"].replace('%[i]="1"', '%[i]="0"')}
    assert records[3] != recorded(image, 5)[3]
    result = run(image, ReplayBackend(records=records), max_steps=100, memo=False)
    assert result.status == "diverged"
    assert "divergence at cycle 4: different symbol in cell" in result.error
    assert "reference:" in result.error and "LLM machine:" in result.error


def test_wrong_state_is_caught():
    image = image_of(ROOT / "programs" / "bb4.yaml")
    records = recorded(image, 2)
    records[1] = {"completion": records[1]["completion"].replace("%[A]", "%[C]").replace("%[B]", "%[D]")}
    result = run(image, ReplayBackend(records=records), max_steps=100, memo=False)
    assert result.status == "diverged" and "different state" in result.error


def test_no_check_runs_without_reference():
    image = image_of(ROOT / "programs" / "bb4.yaml")
    result = run(image, OracleBackend(dialect=image.dialect), max_steps=1000, check=False)
    assert (result.status, result.cycles, result.checked) == ("halted", 107, False)


def test_step_limit():
    image = image_of(ROOT / "programs" / "bb4.yaml")
    result = run(image, OracleBackend(dialect=image.dialect), max_steps=50)
    assert (result.status, result.cycles) == ("step-limit", 50)


def test_reference_tape_grows_both_ways():
    left = load("1LA---")  # runs left forever writing 1s
    out = Reference(left).run(5000)
    assert out.status == "step-limit" and out.config.head == -5000 and len(out.config.tape) == 5000
    right = load("1RA---")
    out = Reference(right).run(5000)
    assert out.config.head == 5000 and min(out.config.tape) == 0 and max(out.config.tape) == 4999


def test_reference_step_matches_run():
    m = load(ROOT / "programs" / "u15_2.yaml")
    a, b = Reference(m), Reference(m)
    for _ in range(3000):
        a.step()
    b.run(3000)
    assert a.config() == b.config() and a.steps == b.steps == 3000


@pytest.mark.parametrize("make", [
    lambda d: OracleBackend(dialect=d),
    lambda d: ReplayBackend(records=[{"completion": 'op="halt"'}]),
], ids=["oracle", "replay"])
def test_backend_contract(make):
    """Every backend: a name, honest about being an LLM, describable as JSON, answers a prompt."""
    b = make(SCHUURMANS)
    assert isinstance(b, backends.Backend)
    assert b.is_llm is False and "not an LLM" in backends.label(b)
    json.dumps(b.describe())
    prompt = image_of(ROOT / "programs" / "bb2.yaml").harness().read(
        image_of(ROOT / "programs" / "bb2.yaml").instructions["A"], {"boot": SCHUURMANS.boot, "i": 0})
    assert isinstance(b.complete(prompt).text, str)


def test_backends_registry_has_the_builtins():
    assert {"oracle", "replay"} <= set(backends.registry())
    assert isinstance(backends.create("oracle", dialect=SCHUURMANS), OracleBackend)
    with pytest.raises(Exception, match="no backend named 'gpt-9'"):
        backends.create("gpt-9", dialect=SCHUURMANS)
