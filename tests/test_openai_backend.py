"""The OpenAI-compatible backend against a real HTTP server on loopback (see tests/loopback.py)."""

import json
from pathlib import Path

import pytest

from llmvm.backends.cache import Cached, Store
from llmvm.backends.openai import OpenAIBackend
from llmvm.checkpoint import Checkpointer, Setup, rebuild
from llmvm.checkpoint import load as load_checkpoint
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
def api_key(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.delenv("LLMVM_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))  # never the user's own file


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


# ------------------------------------------------------------------ faults end in a checkpoint that resumes


def run_with_checkpoint(server, path, **kw):
    image = bb4()
    setup = Setup.create(str(ROOT / "programs" / "bb4.yaml"), dialect="schuurmans", backend="openai",
                         options=("model=test-model", f"base_url={server.url}"), cache="unused.sqlite",
                         cache_mode="off", max_steps=1000)
    return run(image, backend(server, retries=2), max_steps=1000, checkpoint=Checkpointer(path, setup), **kw)


def resume_to_the_end(server, path):
    ck = load_checkpoint(path)
    image = rebuild(ck)
    result = run(image, backend(server), max_steps=1000, start=ck.resume)
    assert (result.status, result.cycles) == ("halted", 107)
    assert result.config == run(bb4(), backend(server), max_steps=1000).config  # as if never stopped
    return ck


@pytest.mark.parametrize("fault", ["500", "429", "truncated", "malformed"])
def test_exhausted_retries_stop_cleanly_with_a_checkpoint_that_resumes(server, tmp_path, fault):
    server.script = ["ok"] * 3 + [fault] * 3  # the fourth distinct prompt fails on every attempt
    result = run_with_checkpoint(server, tmp_path / "ck.json")
    assert result.status == "backend-error" and "openai backend" in result.error
    ck = resume_to_the_end(server, tmp_path / "ck.json")
    assert ck.status == "backend-error" and ck.resume.cycle == result.cycles > 0


def test_a_completion_that_does_not_parse_stops_with_a_checkpoint_that_resumes(server, tmp_path):
    server.script = ["ok", "wrong"]
    result = run_with_checkpoint(server, tmp_path / "ck.json")
    assert result.status == "bad-completion" and result.extra["bad_completions"][0]["output"] == "I refuse."
    ck = resume_to_the_end(server, tmp_path / "ck.json")  # the refused answer was forgotten: asked again
    assert ck.status == "bad-completion" and ck.resume.cycle == 1


def test_retry_asks_again_and_records_every_refused_answer(server):
    server.script = ["ok", "wrong", "wrong"]
    result = run(bb4(), backend(server), max_steps=1000, retries=2)
    assert (result.status, result.cycles) == ("halted", 107)
    bad = result.extra["bad_completions"]
    assert [(b["cycle"], b["output"]) for b in bad] == [(2, "I refuse."), (2, "I refuse.")]
    assert "cannot parse" in bad[0]["reason"]
    server.script = ["ok"] + ["wrong"] * 3
    result = run(bb4(), backend(server), max_steps=1000, retries=2)
    assert result.status == "bad-completion" and len(result.extra["bad_completions"]) == 3


def test_a_refused_answer_is_not_kept_in_the_cache(server, tmp_path):
    store = Store(tmp_path / "c.sqlite")
    server.script = ["ok", "wrong"]
    cpu = Cached(backend(server), dialect="schuurmans", store=store)
    assert run(bb4(), cpu, max_steps=1000).status == "bad-completion"
    assert len(store) == 1  # only the good answer: a later run asks the refused prompt again
    cpu = Cached(backend(server), dialect="schuurmans", store=store)
    assert run(bb4(), cpu, max_steps=1000).status == "halted" and cpu.calls == 7


def test_on_bad_completion_option(server, monkeypatch):
    from click.testing import CliRunner

    from llmvm.cli import cli

    server.script = ["ok", "wrong"]
    args = ["run", str(ROOT / "programs" / "bb4.yaml"), "-b", "openai", "-o", "model=m", "-o", f"base_url={server.url}",
            "-d", "schuurmans", "--cache-mode", "off", "--json"]
    out = CliRunner().invoke(cli, [*args, "--on-bad-completion", "retry:1"])
    d = json.loads(out.output)
    assert (d["status"], d["cycles"], len(d["bad_completions"])) == ("halted", 107, 1)
    bad = CliRunner().invoke(cli, [*args, "--on-bad-completion", "retry:zero"])
    assert bad.exit_code == 2 and "use stop or retry:N" in bad.output
