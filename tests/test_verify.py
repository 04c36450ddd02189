"""Certification: the enumeration is complete and exact, and no wrong answer can pass."""

from pathlib import Path

import pytest

from llmvm import verify
from llmvm.backends import Completion
from llmvm.backends.oracle import OracleBackend
from llmvm.compile import compile_machine
from llmvm.dialect import from_data, load as load_dialect
from llmvm.program import load

ROOT = Path(__file__).resolve().parent.parent
SCHUURMANS = load_dialect("schuurmans")


def image(program="u15_2.yaml", dialect=SCHUURMANS):
    return compile_machine(load(ROOT / "programs" / program), dialect)


def test_u15_2_has_29_cases_and_f_answers_both_symbols():
    cases = verify.cases(image())
    assert len(cases) == 29
    f = [c for c in cases if c.state == "F"]
    assert len(f) == 1 and f[0].symbols == ("0", "1")
    j1 = next(c for c in cases if c.state == "J" and c.symbols == ("1",))
    assert j1.expected.strip() == 'op="halt"'


def test_oracle_is_certified_on_every_program():
    for program in ["u15_2.yaml", "bb4.yaml", "three_symbols.yaml", "binary_increment.yaml"]:
        im = image(program)
        verdicts = verify.ask_all(OracleBackend(dialect=im.dialect), verify.cases(im))
        assert all(v.passed for v in verdicts), program


class Scripted:
    """Answers with the oracle except for prompts of the given state, where it says ``wrong``."""

    name, is_llm = "scripted", False

    def __init__(self, dialect, wrong_state_text, wrong):
        self.oracle, self.text, self.wrong = OracleBackend(dialect=dialect), wrong_state_text, wrong

    def complete(self, prompt):
        if prompt.endswith(self.text.split("@[boot]")[-1].replace("@[@[i]]", "1")):
            return Completion(self.wrong)
        return self.oracle.complete(prompt)

    def describe(self):
        return {"backend": self.name}


@pytest.mark.parametrize("wrong, reason", [
    (' op="%[A]" %[i]="1" i+=1 ', "different writes"),  # the right answer of another case
    (' op="%[B]" %[i]="0" i+=1 i+=0 ', "different writes"),  # same effect here, different writes
    ("op=%[B]", "does not parse"),
    ("", "does not parse"),
])
def test_a_wrong_answer_cannot_pass(wrong, reason):
    im = image()
    cases = verify.cases(im)
    backend = Scripted(im.dialect, im.instructions["E"], wrong)
    verdicts = verify.ask_all(backend, cases)
    failed = [v for v in verdicts if not v.passed]
    assert [(v.case.state, v.case.symbols) for v in failed] == [("E", ("1",))]
    assert reason in failed[0].reason
    cert = verify.certificate(im, backend, verdicts)
    assert cert["verdict"] == "failed" and cert["passed"] == 28


def test_whitespace_does_not_matter():
    case = verify.cases(image())[0]
    assert verify.judge(case, "  " + case.expected.strip().replace(" ", "   ") + "\t").passed


def test_repair_adds_demonstrations_and_reverifies_everything():
    im = image()
    backend = Scripted(im.dialect, im.instructions["E"], "nonsense")
    failed = [v for v in verify.ask_all(backend, verify.cases(im)) if not v.passed]
    repaired = verify.repair(im, failed)
    assert repaired.dialect.boot.startswith(im.dialect.boot)
    assert len(repaired.dialect.boot) > len(im.dialect.boot)
    assert len(verify.cases(repaired)) == 29  # still every case, not only the failing ones


def test_a_dialect_that_reads_the_head_position_cannot_be_certified():
    data = {"language": "if-then", "instruction": "at @[i]: {cases}$result\n", "case": 'if @[@[i]]=={symbol} then result = "{answer}"\n',
            "first_case": 'result = "{answer}"\n', "answer": ' op="%[{next}]" %[i]="{write}" {move} ',
            "halt_answer": ' op="halt" ', "moves": {"L": "i-=1", "R": "i+=1"}}
    with pytest.raises(verify.CertificationError, match=r"reads @\[i\], which can change"):
        verify.cases(image("bb4.yaml", from_data(data)))
