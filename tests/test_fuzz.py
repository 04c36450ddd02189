"""Fuzzing every parser that reads untrusted input: only an LLMVMError ever comes out, and quickly.

The harness reads model completions, the program loader reads YAML from anywhere, the checkpoint
loader reads whatever file it is given. Arbitrary input must end in a clean ``LLMVMError`` (or
succeed), never another exception, and adversarial input must not make a regular expression run
away (a safety bound, not a speed test).
"""

import hashlib
import json
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from llmvm import backends
from llmvm.checkpoint import Checkpointer, Setup, load, rebuild
from llmvm.compile import compile_machine
from llmvm.dialect import load as load_dialect
from llmvm.errors import CheckpointError, LLMVMError
from llmvm.memory import Harness, parse
from llmvm.program import load as load_program
from llmvm.program import loads
from llmvm.run import run

ROOT = Path(__file__).resolve().parent.parent
FUZZ = settings(max_examples=300, deadline=None, database=None)
IMAGE = compile_machine(load_program(ROOT / "programs" / "bb4.yaml"), load_dialect("schuurmans"))
HARNESSES = (Harness("0"), IMAGE.harness())  # the permissive default policy, and a compiled program's
MEMORY = {**IMAGE.memory(), "ptr": "-2", "3": "1", "-2": "1"}

# the harness's own syntax, so that random text often comes close to something it accepts
TOKENS = ['op="', '"', "%[", "@[", "]", "i", "op", "boot", "A", "B", "3", "-2", "=", "+=", "-=", "1", " ",
          "\n", "halt", "ptr", "x" * 70, "9" * 20, "\\", "\x00", "é"]
syntaxy = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)
texts = st.one_of(st.text(max_size=300), syntaxy)


def only_llmvm_errors(f, *args):
    """Call f; an LLMVMError is a fine answer to bad input, anything else fails the test."""
    try:
        return f(*args)
    except LLMVMError:
        return None


# ------------------------------------------------------------------------------ the harness


@FUZZ
@given(texts)
def test_parse_any_completion(text):
    only_llmvm_errors(parse, text)


@FUZZ
@given(texts, st.sampled_from(HARNESSES))
def test_write_any_completion_all_or_nothing(text, harness):
    memory = dict(MEMORY)
    try:
        harness.write(text, memory)
    except LLMVMError:
        assert memory == MEMORY  # a refused completion changes nothing


@FUZZ
@given(texts, st.sampled_from(HARNESSES))
def test_read_any_instruction(text, harness):
    only_llmvm_errors(harness.read, text, dict(MEMORY))


# ------------------------------------------------------------------------------ the program loader

YAML_TOKENS = ["table:", "start state:", "blank:", "input:", "symbols:", "head:", "expect:", "name:", " ", "\n",
               "  ", "{", "}", "[", "]", ",", ":", "-", "A", "B", "0", "1", "R", "L", "S", "write:", "'", '"',
               "&a", "*a", "!!binary", "!!int", "!!float", "!!timestamp", "!!set", "!!omap", "!!python/name:x",
               "1RB1LB_1LA1RZ", "---", "...", "#", "|", ">", "?", "%YAML 1.1", "~", "null", "1e400", "0x1"]
yaml_texts = st.one_of(st.text(max_size=300), st.lists(st.sampled_from(YAML_TOKENS), max_size=60).map("".join))
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8))
data = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(max_size=6), st.integers()), inner, max_size=4)),
    max_leaves=30)
json_data = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)),
                         lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                         max_leaves=30)
programs = st.fixed_dictionaries(
    {"table": data}, optional={"start state": scalars, "blank": scalars, "input": data, "symbols": data,
                               "head": scalars, "expect": data, "name": data, "description": data})


BASE = "table: {a: {0: R}}\nstart state: a\nblank: 0\n"


@FUZZ
@given(yaml_texts)
@example(BASE + "expect: {a: !!binary 'zz'}")  # each of these once escaped as a non-LLMVMError
@example(BASE + "expect: {a: !!timestamp 'zz'}")
@example(BASE + "expect: {a: !!int 'zz'}")
@example(BASE + "expect: {a: !!float 'x'}")
@example(BASE + "expect: {[1]: 2}")
@example(BASE + "expect: &a [*a]")
@example(BASE + "expect: {a: !!omap [1]}")
@example(BASE + "expect: !!python/object:os.system x")
@example(BASE + "expect: " + "[" * 5000)
@example("table: " + "{a: " * 5000)
def test_load_any_yaml_text(text):
    only_llmvm_errors(loads, text)


@FUZZ
@given(st.one_of(data, programs))
def test_load_any_yaml_data(value):
    only_llmvm_errors(loads, yaml.safe_dump(value))


# ------------------------------------------------------------------------------ the checkpoint loader


@pytest.fixture(scope="module")
def valid_checkpoint(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("ck") / "ck.json"
    setup = Setup.create(str(ROOT / "programs" / "bb4.yaml"), dialect="schuurmans", backend="oracle", options=(),
                         cache="c.sqlite", cache_mode="off", max_steps=30)
    run(IMAGE, backends.create("oracle", dialect=IMAGE.dialect), max_steps=30, checkpoint=Checkpointer(path, setup))
    return path.read_bytes()


def load_and_rebuild(path: Path):
    try:
        rebuild(load(path))
    except CheckpointError:
        pass


@FUZZ
@given(st.binary(max_size=500))
def test_load_any_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "ck.json"
    path.write_bytes(data)
    load_and_rebuild(path)


@FUZZ
@given(json_data)
def test_load_any_json_body_with_a_valid_checksum(tmp_path_factory, body):
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    doc = {"format": "llmvm-checkpoint", "version": 1, "sha256": hashlib.sha256(canonical).hexdigest(), "body": body}
    path = tmp_path_factory.mktemp("fuzz") / "ck.json"
    path.write_text(json.dumps(doc))
    load_and_rebuild(path)


@FUZZ
@given(st.data())
def test_damaged_checkpoints_are_refused_or_unchanged(tmp_path_factory, valid_checkpoint, data):
    raw = bytearray(valid_checkpoint)
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(raw)))
    path = tmp_path_factory.mktemp("fuzz") / "ck.json"
    path.write_bytes(bytes(raw[:cut]))
    try:
        ck = load(path)
    except CheckpointError:
        return
    original = tmp_path_factory.mktemp("fuzz") / "ok.json"
    original.write_bytes(valid_checkpoint)
    assert ck.resume == load(original).resume  # only a harmless change (e.g. whitespace) may load


# ------------------------------------------------------------------------------ runaway regular expressions

N = 100_000
ADVERSARIAL = ['x="' * (N // 3), "@[" * (N // 2), "@[@[@[" * (N // 6), "%[" * (N // 2), "@[" + "a" * N,
               "%[" + "a" * N, 'op="' + "%[i]" * (N // 4) + '"', 'op="' + "%[" * (N // 2), "i+=" * (N // 3),
               "i+=1 " * (N // 5), "a" * N + "=", "-" * N, '"' * N, "=" * N, " " * N + "x", "\n" * N,
               'op="' + "x" * N, "[" * N + "]" * N, "@[" * (N // 4) + "i" + "]" * (N // 4)]
PARSERS = {
    "parse": parse,
    "write": lambda text: Harness("0").write(text, dict(MEMORY)),
    "read": lambda text: Harness("0", depth=3).read(text, dict(MEMORY)),
    "program": loads,
}


@pytest.mark.parametrize("name", PARSERS)
def test_no_parser_runs_away_on_adversarial_input(name):
    for text in ADVERSARIAL:
        started = time.perf_counter()
        only_llmvm_errors(PARSERS[name], text)
        elapsed = time.perf_counter() - started
        assert elapsed < 2.0, f"{name} took {elapsed:.1f} s on {text[:20]!r}… ({len(text)} chars)"


def test_the_checkpoint_loader_does_not_run_away(tmp_path):
    for text in ["[" * N, "{" * N, '{"a":' * N, "9" * N, '"' + "\\u" * N]:
        (tmp_path / "ck.json").write_text(text)
        started = time.perf_counter()
        with pytest.raises(CheckpointError):
            load(tmp_path / "ck.json")
        assert time.perf_counter() - started < 2.0
