"""Bi-tag systems: the file format and its errors, the direct simulator, and the U15,2 encoding —
checked by running random systems on the reference U15,2 and finding every bi-tag word on its tape."""

from __future__ import annotations

import random

import pytest

from llmvm import bitag, program, u15
from llmvm.bitag import BiTag
from llmvm.errors import ProgramError
from llmvm.reference import simulate

DEMO = """\
name: demo
A: [a1]
E: [e1, e2]
start: e1 a1
productions:
  e1: {a1: a1 e2}
"""


def random_system(rng: random.Random) -> BiTag:
    """A random valid bi-tag system with 1-3 A-symbols and 2-3 E-symbols, and a random start word."""
    A = tuple(f"a{i}" for i in range(1, rng.randint(1, 3) + 1))
    E = tuple(f"e{j}" for j in range(1, rng.randint(2, 3) + 1))
    table = {(e, a): (*(rng.choice(A) for _ in range(rng.randint(1, 2))), rng.choice(E)) for e in E[:-1] for a in A}
    start = (rng.choice(E[:-1]), *(rng.choice(A) for _ in range(rng.randint(1, 3))))
    return BiTag("random", A, E, table, start)


def halting_systems(seed: int, n: int, max_u15_steps: int = 150_000) -> list[BiTag]:
    """Random systems that halt, and whose U15,2 runs are short enough to check step by step."""
    rng, out = random.Random(seed), []
    while len(out) < n:
        system = random_system(rng)
        if not bitag.simulate(system, 50).halted:
            continue
        if simulate(u15.machine(u15.encode(system)), max_u15_steps).status == "halted":
            out.append(system)
    return out


# ----------------------------------------------------------------------------- format and simulator


def test_demo_runs_to_its_halting_word():
    system = bitag.loads(DEMO)
    assert list(bitag.steps(system)) == [("e1", "a1"), ("a1", "e2"), ("e2", "a1")]
    assert bitag.simulate(system, 10) == bitag.Run(True, 2, 1, ("e2", "a1"))


def test_shipped_bitag_systems_meet_their_expectations():
    for path in ("programs/compiled/double.bitag.yaml", "programs/compiled/bb2.bitag.yaml"):
        system = bitag.load(path)
        run = bitag.simulate(system, 10**6)
        assert run.halted and run.steps == system.expect["bi-tag steps"], path
        assert " ".join(run.word) == system.expect["halting word"], path


def test_dump_and_load_round_trip():
    system = bitag.loads(DEMO)
    again = bitag.loads(bitag.dump(system, "a header\nof two lines"))
    assert (again.A, again.E, dict(again.productions), again.start) == (
        system.A, system.E, dict(system.productions), system.start)


@pytest.mark.parametrize(
    "edit, message",
    [
        (("e1: {a1: a1 e2}", "e1: {}"), r"<t>:5: the production table must be total; missing \(e1, a1\)"),
        (("start: e1 a1", "start: e1 e1 a1"), r"<t>:4: the start word must hold exactly one E-symbol, it holds 2"),
        (("start: e1 a1", "start: e1"), r"<t>:4: the start word must hold at least one A-symbol"),
        (("start: e1 a1", "start: e1 a9"), r"<t>:4: the start word uses unknown symbol\(s\) \['a9'\]"),
        (("e1: {a1: a1 e2}", "e1: {a1: a1 e2}\n  e2: {a1: a1 e1}"), r"e2 is the halting symbol \(last in E\)"),
        (("e1: {a1: a1 e2}", "e1: {a1: e2}"), r"must be one or two A-symbols then one E-symbol"),
        (("e1: {a1: a1 e2}", "e1: {a1: a1 a1 a1 e2}"), r"must be one or two A-symbols then one E-symbol"),
        (("e1: {a1: a1 e2}", "e1: {a1: a1 e2, a7: a1 e2}"), r"<t>:6: 'a7' \(in the productions of e1\) is not an A-symbol"),
        (("E: [e1, e2]", "E: [e1, a1]"), r"symbol\(s\) \['a1'\] are in both A and E"),
        (("E: [e1, e2]", "E: [e1, e1]"), r"<t>:3: symbol\(s\) \['e1'\] appear twice in E"),
        (("name: demo", "name: demo\nspeed: 3"), r"<t>:2: unknown key 'speed'"),
        (("A: [a1]\n", ""), r"<t>: missing key 'A'"),
        (("e1: {a1: a1 e2}", "e1: {a1: a1 e2"), r"<t>:\d+: not valid YAML"),
    ],
)
def test_bad_systems_get_errors_naming_file_line_and_symbols(edit, message):
    old, new = edit
    with pytest.raises(ProgramError, match=message):
        bitag.loads(DEMO.replace(old, new), source="<t>")


# ----------------------------------------------------------------------------- the U15,2 encoding


def test_the_u15_table_is_the_shipped_program():
    shipped = program.load("programs/u15_2.yaml")
    tape = u15.encode(bitag.loads(DEMO))
    assert u15.machine(tape).digest() == shipped.digest()  # same table, same demo tape, same head


def test_symbol_codes_follow_neary_and_woods():
    system = BiTag("s", ("a1", "a2"), ("e1", "e2", "e3"), {}, ("e1", "a1"))
    enc = u15.Encoding(system)  # q = 2, h = 3
    assert enc.symbol("a1") == "01" * 3 + "11"
    assert enc.symbol("a2") == "01" * 11 + "11"
    assert enc.symbol("e2") == "01" * 32
    assert enc.symbol("e3") == "01" * 51 + "11"


@pytest.mark.parametrize("system", halting_systems(seed=7, n=16), ids=lambda s: " ".join(s.start))
def test_u15_shows_every_bitag_word_in_order_and_halts_with_it(system):
    check = u15.check_on_u15(system, max_steps=2_000_000)
    words = list(bitag.steps(system))
    assert check.all_words, f"matched {len(check.matched)} of {len(words)} words: {check.matched}"
    assert check.halted
    assert [t for t, _ in check.matched] == list(range(len(words)))
    assert [s for _, s in check.matched] == sorted(s for _, s in check.matched)
    out = simulate(u15.machine(u15.encode(system)), check.u15_steps)
    cells = "".join(out.config.tape.get(p, "0") for p in range(max(out.config.tape) + 1))
    assert u15.decode(system, cells) == words[-1]
    assert out.config.state == "J" and out.config.head == 0


def test_u15_does_not_halt_while_the_bitag_system_runs_on():
    system = BiTag("loop", ("a1",), ("e1", "e2"), {("e1", "a1"): ("a1", "e1")}, ("e1", "a1"))
    assert not bitag.simulate(system, 1000).halted
    check = u15.check_on_u15(system, max_steps=100_000)
    assert not check.halted and len(check.matched) > 3  # it keeps producing the (same) word


def test_decode_refuses_a_tape_without_a_word():
    with pytest.raises(ProgramError, match="does not end with an encoded bi-tag word"):
        u15.decode(bitag.loads(DEMO), "0101000")
