"""The accelerated reference gives exactly the plain reference's results (steps, tape, head, state)."""

import random
from pathlib import Path

import pytest

from llmvm.accel import Accelerated
from llmvm.program import load, parse_compact
from llmvm.reference import simulate

ROOT = Path(__file__).resolve().parent.parent


def random_machine(rng: random.Random, states: int, symbols: int) -> str:
    letters = "ABCDEFGH"[:states]
    rows = []
    for _ in letters:
        row = ""
        for _ in range(symbols):
            if rng.random() < 0.08:
                row += "---"
            else:
                nxt = rng.choice(letters + "Z") if rng.random() < 0.15 else rng.choice(letters)
                row += f"{rng.randrange(symbols)}{rng.choice('LR')}{nxt}"
        rows.append(row)
    return "_".join(rows)


@pytest.mark.parametrize("seed", range(300))
def test_random_machines_agree(seed):
    rng = random.Random(seed)
    text = random_machine(rng, rng.randint(1, 5), rng.randint(2, 3))
    m = parse_compact(text)
    tape = tuple(str(rng.randrange(len(m.symbols))) for _ in range(rng.randint(0, 12)))
    m = m.with_input(tape, rng.randint(-2, len(tape) + 2))
    limit = rng.choice([0, 1, 7, 100, 5000])
    plain = simulate(m, limit)
    for k in (1, 2, 3, 4):
        fast = Accelerated(m, k).run(limit)
        assert (fast.status, fast.steps, fast.config) == (plain.status, plain.steps, plain.config), (text, k)


@pytest.mark.parametrize("name", ["bb4", "bb5", "u15_2", "binary_increment", "three_symbols"])
def test_shipped_programs_agree(name):
    m = load(ROOT / "programs" / f"{name}.yaml")
    plain = simulate(m, 10**8)
    for k in (2, 3):
        fast = Accelerated(m, k).run(10**8)
        assert (fast.status, fast.steps, fast.config) == (plain.status, plain.steps, plain.config)


def test_bb5_collapses_to_few_macro_steps():
    a = Accelerated(load(ROOT / "programs" / "bb5.yaml"), 3)
    out = a.run(10**8)
    assert (out.status, out.steps) == ("halted", 47_176_870)
    assert sum(1 for s in out.config.tape.values() if s == "1") == 4098
    assert a.macro_steps < 50_000  # vs 47 million plain steps


def test_step_limit_inside_a_jump_is_exact():
    m = load(ROOT / "programs" / "bb5.yaml")
    for limit in (1, 1000, 123_457, 10_000_001):
        assert Accelerated(m, 3).run(limit).config == simulate(m, limit).config
