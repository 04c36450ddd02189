"""The OpenAI-compatible backend against a real HTTP server on loopback (see tests/loopback.py)."""

import json
from pathlib import Path

import pytest

from llmvm.backends.openai import OpenAIBackend
from llmvm.compile import compile_machine
from llmvm.dialect import load as load_dialect
from llmvm.errors import BackendError
from llmvm.program import load
from llmvm.run import run
from llmvm import verify
from tests.loopback import LoopbackServer

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-test-THIS-KEY-MUST-NEVER-LEAK-0123456789"


@pytest.fixture
def server():
    with LoopbackServer() as s:
        yield s


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)


def backend(server, **kw):
    kw.setdefault("retries", 3)
    kw.setdefault("backoff", 0.01)
    return OpenAIBackend(model="test-model", base_url=server.url, **kw)


def bb4():
    return compile_machine(load(ROOT / "programs" / "bb4.yaml"), load_dialect("schuurmans"))


@pytest.mark.parametrize("endpoint", ["completion", "chat"])
def test_runs_bb4_over_http(server, endpoint):
    image = bb4()
    result = run(image, backend(server, endpoint=endpoint), max_steps=1000)
    assert (result.status, result.cycles, result.calls) == ("halted", 107, 8)
    assert result.is_llm  # the backend is the LLM client; the server here is a stand-in
    body = server.requests[0]["body"]
    assert body["temperature"] == 0.0 and body["stop"] == ["\n"] and body["repeat_penalty"] == 1.0
    assert server.requests[0]["path"].endswith("/completions")


def test_reports_tokens(server):
    c = backend(server).complete(bb4().harness().read(bb4().instructions["A"], {**bb4().memory()}))
    assert c.tokens_in and c.tokens_in > 100 and c.latency > 0


@pytest.mark.parametrize("fault", ["429", "500", "503", "truncated", "malformed"])
def test_transient_faults_are_retried(server, fault):
    server.script = [fault, fault]
    image = bb4()
    prompt = image.harness().read(image.instructions["A"], image.memory())
    assert backend(server).complete(prompt).text.strip().startswith("op=")
    assert len(server.requests) == 3  # two failures, then the answer


def test_gives_up_after_bounded_retries(server):
    server.script = ["500"] * 10
    image = bb4()
    prompt = image.harness().read(image.instructions["A"], image.memory())
    with pytest.raises(BackendError, match=r"InternalServerError \(HTTP 500\)"):
        backend(server, retries=2).complete(prompt)
    assert len(server.requests) == 3


def test_timeout_is_a_clean_error(server):
    server.script = ["slow"] * 5
    server.delay = 1.0
    image = bb4()
    prompt = image.harness().read(image.instructions["A"], image.memory())
    with pytest.raises(BackendError, match="APITimeoutError.*is the server running"):
        backend(server, retries=1, timeout=0.2).complete(prompt)


def test_connection_refused_is_a_clean_error():
    b = OpenAIBackend(model="m", base_url="http://127.0.0.1:9/v1", retries=1, backoff=0.01)
    with pytest.raises(BackendError, match="APIConnectionError.*is the server running"):
        b.complete("x")


def test_wrong_content_ends_the_run_as_a_bad_completion(server):
    server.script = ["ok", "wrong"]
    result = run(bb4(), backend(server), max_steps=1000)
    assert result.status == "bad-completion" and "I refuse." in result.error and "step 2" in result.error


def test_verify_over_http(server):
    image = compile_machine(load(ROOT / "programs" / "u15_2.yaml"), load_dialect("schuurmans"))
    verdicts = verify.ask_all(backend(server), verify.cases(image), workers=4)
    assert len(verdicts) == 29 and all(v.passed for v in verdicts)


def test_the_key_is_sent_but_never_described_or_reported(server):
    b = backend(server)
    b.complete("result = \" op=\"halt\" \"\n$result\n")
    assert server.requests[0]["headers"]["authorization"] == f"Bearer {KEY}"
    assert KEY not in json.dumps(b.describe())
    server.script = ["500"] * 5
    with pytest.raises(BackendError) as e:
        backend(server, retries=0).complete("x")
    assert KEY not in str(e.value)


def test_missing_configuration_says_what_to_do(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("LLMVM_MODEL", raising=False)
    with pytest.raises(BackendError, match="no model; pass -o model=NAME or set LLMVM_MODEL"):
        OpenAIBackend()
    with pytest.raises(BackendError, match="set OPENAI_API_KEY"):
        OpenAIBackend(model="gpt-4o-mini")
