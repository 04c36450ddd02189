"""The harness rules, one table row each: reads, writes, updates, atomicity, the write policy."""

import pytest

from llmvm.errors import CompletionError, ReadError
from llmvm.memory import Assign, Harness, Policy, Target, Update, parse

MEM = {
    "boot": "BOOT|",
    "op": "@[boot]x",
    "i": 3,
    "3": "1",
    "-2": "1",
    "B": 'line one "quoted" %[i]\nline two @[i]',
    "ptr": "-2",
}


@pytest.mark.parametrize(
    "instruction, prompt",
    [
        ("plain text", "plain text"),  # nothing to read
        ("@[boot]go", "BOOT|go"),  # a stored value
        ("@[i]", "3"),  # an integer counter reads as its decimal text
        ("@[@[i]]", "1"),  # nested: @[i] -> 3, then @[3] -> cell 3
        ("@[-2]", "1"),  # negative cells
        ("@[@[ptr]]", "1"),  # a stored label naming a negative cell
        ("@[17]", "0"),  # a cell never written reads as the blank
        ("@[-99]", "0"),
        ("a @[i] b @[@[i]] c", "a 3 b 1 c"),  # several reads in one text
        ("@[ unknown", "@[ unknown"),  # not a read: left as it is
    ],
)
def test_read(instruction, prompt):
    assert Harness("0").read(instruction, dict(MEM)) == prompt


@pytest.mark.parametrize(
    "instruction, error",
    [
        ("@[nowhere]", "unknown label 'nowhere'"),
        ("@[@[@[i]]]", "deeper than the declared depth 2"),  # three levels, depth 2
    ],
)
def test_read_errors(instruction, error):
    with pytest.raises(ReadError, match=error.replace("[", r"\[")):
        Harness("0").read(instruction, dict(MEM))


def test_read_depth_is_declared():
    assert Harness("0", depth=3).read("@[@[@[ptr2]]]", {**MEM, "ptr2": "ptr"}) == "1"


@pytest.mark.parametrize(
    "completion, writes",
    [
        (' op="%[B]" %[i]="0" i+=1 ', [("op", MEM["B"]), ("3", "0"), ("i", 4)]),  # the paper's answer
        ('op="halt"', [("op", "halt")]),
        ("i-=1", [("i", 2)]),
        ("i+=1 i+=1", [("i", 4), ("i", 5)]),  # updates apply in order
        ('%[ptr]="0"', [("-2", "0")]),  # %[label] as a target names a (negative) cell
        ('%[i]="1" i-=1 %[i]="0"', [("3", "1"), ("i", 2), ("3", "0")]),  # %[i] is substituted once, before any write
        ('5="%[i]%[i]"', [("5", "33")]),  # several references in one value
        ('op="a\nb"', [("op", "a\nb")]),  # a value may span lines
        ('\n\top="x"\n', [("op", "x")]),  # surrounding whitespace is ignored
    ],
)
def test_write(completion, writes):
    memory = dict(MEM)
    applied = Harness("0").write(completion, memory)
    assert list(applied) == writes
    assert memory == {**MEM, **dict(writes)}  # the last write to a label wins


def test_write_copies_instruction_text_raw():
    """%[B] copies B's text as data: its quotes, %[..] and @[..] are not parsed or expanded."""
    memory = dict(MEM)
    Harness("0").write('op="%[B]"', memory)
    assert memory["op"] == 'line one "quoted" %[i]\nline two @[i]'


@pytest.mark.parametrize(
    "completion, error",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("result", "cannot parse"),
        ('op="unterminated', "cannot parse"),
        ('op="a" garbage', "cannot parse the completion at character 7"),
        ('op="a"i+=1', "cannot parse"),  # items must be separated by whitespace
        ("i+=x", "cannot parse"),
        ('"op"="x"', "cannot parse"),
    ],
)
def test_parse_errors(completion, error):
    with pytest.raises(CompletionError, match=error):
        parse(completion)


@pytest.mark.parametrize(
    "completion, error",
    [
        ('boot="pwned"', "does not allow writing 'boot'"),  # the few-shot prefix is read-only
        ('B="x"', "does not allow writing 'B'"),  # so are instruction texts
        ('i="7"', "does not allow writing 'i'"),  # the head moves only by += / -=
        ("op+=1", "'op' is not a counter"),
        ('op="x" %[nowhere]="1"', "unknown label 'nowhere'"),
        ('op="%[nowhere]"', "unknown label 'nowhere'"),
        ('op="x" 3+=1', "is not a counter"),
        ('%[boot]="1"', "is not a label"),
    ],
)
def test_refused_writes_change_nothing(completion, error):
    memory = dict(MEM)
    with pytest.raises(CompletionError, match=error):
        Harness("0").write(completion, memory)
    assert memory == MEM


def test_policy_limits_values():
    policy = Policy(registers={"op": frozenset({"A", "halt"})}, cell_values=frozenset({"0", "1"}), max_value=10)
    h = Harness("0", policy=policy)
    for bad, why in [('op="C"', "not a value the program allows for 'op'"),
                     ('4="2"', "not a value the program allows for '4'"),
                     ('op="' + "x" * 11 + '"', "a value of 11 characters")]:
        memory = dict(MEM)
        with pytest.raises(CompletionError, match=why):
            h.write(bad, memory)
        assert memory == MEM
    memory = dict(MEM)
    h.write('op="A" 4="1" i+=1', memory)
    assert (memory["op"], memory["4"], memory["i"]) == ("A", "1", 4)


def test_parse_shapes():
    assert parse('op="%[B]" %[i]="0" i-=1') == (
        Assign(Target("op"), (Target("B"),)),
        Assign(Target("i", indirect=True), ("0",)),
        Update(Target("i"), -1),
    )


@pytest.mark.parametrize(
    "completion, error",
    [
        ('made_up="x"', "does not allow writing 'made_up'"),  # no new labels besides tape cells
        ('op="x" new_1="a" new_2="b"', "does not allow writing 'new_1'"),
        ('1234567890123456789="1"', "does not allow writing '1234567890123456789'"),  # 19 digits: not a cell
        ('op="' + "x" * (1 << 16 | 1) + '"', "a value of 65537 characters"),  # the default size limit
        (" ".join(f'{k}="1"' for k in range(65)), "65 writes in one completion"),
    ],
)
def test_untrusted_completions_are_refused_by_default(completion, error):
    memory = dict(MEM)
    with pytest.raises(CompletionError, match=error):
        Harness("0").write(completion, memory)
    assert memory == MEM


@pytest.mark.parametrize("start, completion, limit", [
    (10**18 - 1, "i+=1", 10**18 - 1),  # the default: a counter must still name a cell (at most 18 digits)
    (-(10**18) + 1, "i-=1", 10**18 - 1),
    (0, " ".join(["i+=999999999"] * 11), 10**10),  # many updates in one completion add up
])
def test_counters_stay_on_cells(start, completion, limit):
    memory = {**MEM, "i": start}
    policy = Policy() if limit == Policy().max_counter else Policy(max_counter=limit)
    with pytest.raises(CompletionError, match="beyond the last cell"):
        Harness("0", policy=policy).write(completion, memory)
    assert memory["i"] == start
