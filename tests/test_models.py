"""Real language models as the CPU: the embedded llama.cpp backend, and llama.cpp's own
OpenAI-compatible server on loopback. These load a real model (Qwen2.5 0.5B, ~500 MB) and take a
minute or two; they run in CI, which installs the model package. Deselect with -m 'not model'.

The claims checked here are results measured on this model; if a new engine version changes an
answer, these tests fail and the certificate must be re-examined — never loosened.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llmvm import tapes, verify
from llmvm.backends.cache import Cached
from llmvm.backends.local import LocalBackend
from llmvm.backends.openai import OpenAIBackend
from llmvm.compile import compile_machine
from llmvm.dialect import load as load_dialect
from llmvm.models import MODELS, resolve
from llmvm.program import load
from llmvm.run import run

pytestmark = pytest.mark.model
ROOT = Path(__file__).resolve().parent.parent
U15_2 = load(ROOT / "programs" / "u15_2.yaml")


@pytest.fixture(scope="module")
def qwen():
    return LocalBackend(model="qwen2.5-0.5b", chat="false")


def test_model_file_is_the_pinned_one():
    path, digest = resolve("qwen2.5-0.5b")
    assert digest == MODELS["qwen2.5-0.5b"].sha256 and path.stat().st_size == MODELS["qwen2.5-0.5b"].size


def test_qwen_is_certified_on_u15_2_in_the_lookup_dialect(qwen):
    image = compile_machine(U15_2, load_dialect("lookup"))
    verdicts = verify.ask_all(qwen, verify.cases(image))
    failed = [(v.case.state, v.case.symbols, v.answer) for v in verdicts if not v.passed]
    assert failed == [] and len(verdicts) == 30


def test_qwen_runs_u15_2_to_its_halt_in_lockstep(qwen):
    image = compile_machine(U15_2, load_dialect("lookup"))
    r = run(image, Cached(qwen), max_steps=100_000, check=True)
    assert (r.status, r.config.state, r.config.head) == ("halted", "J", 0), r.error
    assert r.calls == 30 and r.is_llm


def test_qwen_runs_a_compiled_bitag_program_on_u15_2(qwen):
    """Unary doubling compiled to a U15,2 tape: 371,606 cycles on the model's answers, checked at every
    cycle, and the halted tape decodes to the doubled word."""
    tf = tapes.load(str(ROOT / "programs" / "compiled" / "double.u15_2.yaml"))
    image = compile_machine(tapes.input_for(U15_2, tf, "double"), load_dialect("lookup"))
    r = run(image, Cached(qwen), max_steps=1_000_000, check=True)
    assert r.status == "halted" and r.cycles == tf.expect["u15_2 steps"] + 1, r.error
    assert r.is_llm and r.calls <= 30
    assert tapes.decode(tf, r.config)["halting word"] == "e2 a a a a a a b"


def test_the_papers_dialect_is_not_certified_on_qwen(qwen):
    """A result, not a wish: the if-then form with its few-shot prefix fails many cases on a 0.5B model."""
    image = compile_machine(U15_2, load_dialect("schuurmans"))
    cases = verify.cases(image)[:6]
    verdicts = verify.ask_all(qwen, cases)
    assert sum(v.passed for v in verdicts) < len(cases)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """llama-cpp-python's OpenAI-compatible server with the pinned model, on 127.0.0.1 only.

    Its log goes to a file, not a pipe: it prints the model's whole chat template while loading,
    enough to fill a pipe nobody reads yet and block the server before it listens.
    """
    path, _ = resolve("qwen2.5-0.5b")
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias", "qwen2.5-0.5b",
             "--host", "127.0.0.1", "--port", str(port), "--n_threads", "1", "--n_ctx", "2048"],
            stdout=subprocess.DEVNULL, stderr=log, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama.cpp server exited: {log_path.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail(f"llama.cpp server did not start within 120 s: {log_path.read_text(errors='replace')[-2000:]}")
    yield f"http://127.0.0.1:{port}/v1"
    proc.terminate()
    proc.wait(30)


def test_u15_2_over_a_real_openai_compatible_server(llama_server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    backend = OpenAIBackend(model="qwen2.5-0.5b", base_url=llama_server, endpoint="completion", max_tokens=48)
    image = compile_machine(U15_2, load_dialect("lookup"))
    r = run(image, Cached(backend), max_steps=100_000, check=True)
    assert r.status == "halted", r.error
    assert r.calls == 30 and r.is_llm and r.config.head == 0
