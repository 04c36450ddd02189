"""Loading programs: both source forms, and errors that name file, line, state and symbol."""

from pathlib import Path

import pytest

from llmvm.errors import ProgramError
from llmvm.program import Rule, load, loads, parse_compact

PROGRAMS = sorted(Path(__file__).resolve().parent.parent.joinpath("programs").glob("*.yaml"))


def test_turingmachine_io_shorthand():
    m = loads(
        """
input: '10'
blank: ' '
start state: right
table:
  right:
    [1, 0]: R
    ' ': {L: carry}
  carry:
    1: {write: 0, L}
    [0, ' ']: {write: 1, L: done}
  done:
"""
    )
    assert m.start == "right" and m.blank == " "
    assert m.symbols == (" ", "0", "1")
    assert m.input == ("1", "0")
    assert m.rule("right", "1") == Rule("1", +1, "right")  # bare move: write what was read, stay
    assert m.rule("right", " ") == Rule(" ", -1, "carry")
    assert m.rule("carry", "1") == Rule("0", -1, "carry")  # {write, L}: same state
    assert m.rule("carry", " ") == Rule("1", -1, "done")
    assert m.is_halting("done") and not m.is_halting("carry")


def test_compact_notation():
    m = parse_compact("1RB1LB_1LA---")
    assert m.states == ("A", "B") and m.symbols == ("0", "1")
    assert m.rule("A", "1") == Rule("1", -1, "B")
    assert m.rule("B", "1") is None  # --- is undefined: the machine halts there
    z = parse_compact("1RB1LB_1LA1RZ")
    assert z.states == ("A", "B", "Z") and z.is_halting("Z")


def test_compact_in_yaml_and_on_the_command_line_mean_the_same():
    assert loads("table: 1RB1LB_1LA1RZ").digest() == load("1RB1LB_1LA1RZ").digest()


def test_symbols_are_text_not_yaml_types():
    m = loads("blank: 0\nstart state: a\ntable:\n  a:\n    1: {write: 0, R: h}\n    y: {write: no, R}\n  h:\n")
    assert set(m.symbols) == {"0", "1", "y", "no"}  # not ints or booleans


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_shipped_programs_load(path):
    m = load(path)
    assert m.start in m.states and m.table


@pytest.mark.parametrize(
    "text, error",
    [
        ("table: [", r"<t>:1: not valid YAML"),
        ("- a\n- b\n", "a program is a YAML mapping"),
        ("blank: 0\nstart state: a\n", "missing key 'table'"),
        ("start state: a\ntable:\n  a:\n", "missing key 'blank'"),
        ("blank: 0\ntable:\n  a:\n", "missing key 'start state'"),
        ("blank: 0\nstart state: b\ntable:\n  a:\n", r"<t>:2: start state 'b' is not in the table"),
        ("blank: 0\nstart state: a\ncolour: red\ntable:\n  a:\n", r"<t>:3: unknown key 'colour'"),
        ("blank: 0\nstart state: a\ntable:\n  a:\n    1: {write: 0, R: nowhere}\n",
         r"<t>:5: state 'a', symbol '1': next state 'nowhere' is not defined"),
        ("blank: 0\nstart state: a\ntable:\n  a:\n    1: {write: 0}\n", r"<t>:5: state 'a', symbol '1': the action has no move"),
        ("blank: 0\nstart state: a\ntable:\n  a:\n    1: {write: 0, L, R}\n", r"state 'a', symbol '1': more than one move"),
        ("blank: 0\nstart state: a\ntable:\n  a:\n    1: {wirte: 0, L}\n", r"unknown action key 'wirte'"),
        ("blank: 0\nstart state: a\ntable:\n  a:\n    1: X\n", r"<t>:5: state 'a', symbol '1': an action is L, R, S"),
        ("blank: 0\nstart state: a\ntable:\n  a:\n    [0, 1]: R\n    1: L\n", r"state 'a', symbol '1': defined twice"),
        ("blank: 0\nstart state: a\ntable:\n  a:\n    1: R\n  a:\n", r"<t>:6: state 'a' is defined twice"),
        ("blank: 0\nstart state: a\ninput: '102'\ntable:\n  a:\n    1: R\n", r"<t>:3: input symbol\(s\) \['2'\] are not in the alphabet"),
        ("blank: 0\nstart state: a\nhead: left\ntable:\n  a:\n    1: R\n", r"<t>:3: head must be an integer"),
        ("table: 1RB1LB_1LA", r"state B has 1 transitions, state A has 2"),
        ("table: 1RB2LB_1LA1RZ", r"state A, symbol 1: writes '2'"),
        ("table: 1QB1LB_1LA1RZ", r"state A, symbol 0: move 'Q' is not L, R or S"),
        ("table: 1RB1LB_1LA1R7", r"next state '7' is not a capital letter"),
        ("table: 1RB1LB_1LA1RZ\nstart state: B\n", r"<t>:2: compact notation starts in state A"),
    ],
)
def test_errors_name_the_place(text, error):
    with pytest.raises(ProgramError, match=error):
        loads(text, source="<t>")


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ProgramError, match="no such program file"):
        load(tmp_path / "nope.yaml")


def test_with_input_checks_the_alphabet():
    m = load("1RB1LB_1LA1RZ")
    assert m.with_input(("1", "0"), 1).tape() == {0: "1"}
    with pytest.raises(ProgramError, match=r"symbol\(s\) '2' are not in the machine's alphabet"):
        m.with_input(("2",))
