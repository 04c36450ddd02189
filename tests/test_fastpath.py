"""The replay fast path is the same machine: identical memory, cycle for cycle, to the full harness."""

from pathlib import Path

import pytest

from llmvm.backends.cache import Cached
from llmvm.backends.oracle import OracleBackend
from llmvm.compile import compile_machine
from llmvm.dialect import load as load_dialect
from llmvm.fastpath import FastPath, effect, pointer_of
from llmvm.memory import Harness, Policy
from llmvm.program import load
from llmvm.run import run
from llmvm.vm import VM

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = [p for p in sorted((ROOT / "programs").glob("*.yaml")) if load(p).expect["steps"] <= 200_000]


def machines(path):
    image = compile_machine(load(path), load_dialect("schuurmans"))
    full = VM(image.memory(), Cached(OracleBackend(dialect=image.dialect)), image.harness())
    fastvm = VM(image.memory(), Cached(OracleBackend(dialect=image.dialect)), image.harness())
    return image, full, fastvm, FastPath(fastvm)


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_same_memory_after_every_cycle(path):
    image, full, fastvm, fast = machines(path)
    full_steps, fast_steps = full.steps(), fastvm.steps()
    while not full.halted:
        next(full_steps)
        if not fast.advance(1):  # replay if the pair is known, else learn it and run in full
            fast.learn()
            next(fast_steps)
        assert fastvm.memory == full.memory and fastvm.cycle == full.cycle
    assert fastvm.halted
    assert fast.replayed > 0 or full.cycle < 40


def test_u15_2_replays_almost_everything():
    image = compile_machine(load(ROOT / "programs" / "u15_2.yaml"), load_dialect("schuurmans"))
    r = run(image, OracleBackend(dialect=image.dialect), max_steps=10**6)
    assert r.status == "halted" and r.calls == 29 and r.cache_hits == r.cycles - 29


def test_observers_see_every_cycle_in_full():
    image = compile_machine(load(ROOT / "programs" / "bb4.yaml"), load_dialect("schuurmans"))
    seen = []
    r = run(image, OracleBackend(dialect=image.dialect), max_steps=1000, observers=(seen.append,))
    assert [s.n for s in seen] == list(range(1, 108)) and r.cycles == 107


def test_unsafe_shapes_are_never_replayed():
    policy = Policy(registers={"op": None}, cell_values=frozenset({"0", "1"}))
    h = Harness("0", policy=policy)
    memory = {"boot": "B", "op": "", "i": 0, "B": "text"}
    assert pointer_of("@[boot]@[@[i]]", h, memory) == "i"
    assert pointer_of("no reads at all", h, memory) == "i"  # keyed by the head anyway: still exact
    assert pointer_of("@[i]", h, memory) is None  # the head position itself is in the prompt
    assert pointer_of("@[@[op]]", h, memory) is None  # op is not a counter
    assert pointer_of("@[5]", h, memory) is None  # a fixed cell can change
    assert pointer_of("@[ @[boot]]", h, {**memory, "boot": "i]"}) is None  # a stray @[ could close
    assert pointer_of("@[@[i]]", Harness("0"), memory) is None  # cells unrestricted by the policy
    assert effect(h, 'op="%[B]" %[i]="1" i+=1', memory, "i") == ("text", "1", 1)
    assert effect(h, 'op="x" 5="1"', memory, "i") is None  # a fixed cell
    assert effect(h, 'op="%[i]"', memory, "i") is None  # a value that depends on the head
