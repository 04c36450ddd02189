"""Secrets: API keys come from the environment or a private config file, and never reach an artefact."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmvm import config
from llmvm.backends.openai import OpenAIBackend
from llmvm.errors import ConfigError
from tests.loopback import LoopbackServer

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-llmvm-DISTINCTIVE-7c0ffee-5ecret-4d2b9a1e"
FRAGMENTS = (KEY, "DISTINCTIVE-7c0ffee", "5ecret-4d2b9a1e")  # the key, or a telltale piece of it


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("OPENAI_API_KEY", "LLMVM_API_KEY", "LLMVM_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def config_file(tmp_path: Path, text: str | bytes, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    path.chmod(mode)
    return path


# ------------------------------------------------------------------------------ the config file


def test_the_key_comes_from_a_private_config_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMVM_CONFIG", str(config_file(tmp_path, f'[openai]\napi_key = "{KEY}"\n')))
    assert config.api_key("openai") == KEY
    assert OpenAIBackend(model="m")._client.api_key == KEY


def test_the_default_place_and_a_top_level_key(tmp_path):
    default = tmp_path / "xdg" / "llmvm" / "config.toml"
    default.parent.mkdir(parents=True)
    default.write_text(f'api_key = "{KEY}"\n')
    default.chmod(0o600)
    assert config.path() == default and config.api_key("openai") == KEY


def test_no_file_means_no_key():
    assert config.load() == {} and config.api_key("openai") is None


def test_the_environment_wins_over_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMVM_CONFIG", str(config_file(tmp_path, '[openai]\napi_key = "from-file"\n')))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    assert OpenAIBackend(model="m")._client.api_key == KEY


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o602])
def test_a_file_others_can_read_is_refused(tmp_path, monkeypatch, mode):
    path = config_file(tmp_path, f'api_key = "{KEY}"\n', mode)
    monkeypatch.setenv("LLMVM_CONFIG", str(path))
    with pytest.raises(ConfigError, match=f"group or others may read it.*chmod 600 {path}") as e:
        OpenAIBackend(model="m")
    assert not any(f in str(e.value) for f in FRAGMENTS)


@pytest.mark.parametrize("text, message", [
    (f'api_key = "{KEY}', "not valid TOML"),  # unterminated: the message must not quote the value
    (f"api_key = {KEY}", "not valid TOML"),
    (b"\xff\xfe" + KEY.encode(), "not valid TOML"),
    ("api_key = 42", "api_key must be a string"),
])
def test_a_malformed_file_is_a_clear_error_without_the_key(tmp_path, monkeypatch, text, message):
    monkeypatch.setenv("LLMVM_CONFIG", str(config_file(tmp_path, text)))
    with pytest.raises(ConfigError, match=message) as e:
        config.api_key("openai")
    assert str(tmp_path) in str(e.value) and not any(f in str(e.value) for f in FRAGMENTS)


def test_a_missing_named_file_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMVM_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="LLMVM_CONFIG names .*nope.toml, which does not exist"):
        config.load()


# ------------------------------------------------------------------------------ no artefact holds the key


def has_trace_option() -> bool:
    from click.testing import CliRunner

    from llmvm.cli import cli

    return "--trace" in CliRunner().invoke(cli, ["run", "--help"]).output


@pytest.mark.parametrize("source", ["env", "config"])
def test_the_key_never_reaches_an_artefact_or_the_output(tmp_path, source):
    """A real run over HTTP with cache, checkpoint and trace, a failing server, and a resume: grep everything."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    if source == "env":
        env["OPENAI_API_KEY"] = KEY
    else:
        (tmp_path / "private").mkdir()
        env["LLMVM_CONFIG"] = str(config_file(tmp_path / "private", f'[openai]\napi_key = "{KEY}"\n'))
    with LoopbackServer() as server:
        server.script = ["ok"] * 4 + ["500"] * 2  # the fifth prompt fails on both attempts: backend-error
        args = ["run", ROOT / "programs" / "bb4.yaml", "-b", "openai", "-o", "model=test-model",
                "-o", f"base_url={server.url}", "-o", "retries=1", "-o", "backoff=0.01", "-d", "schuurmans",
                "--cache", tmp_path / "cache.sqlite", "--checkpoint", tmp_path / "run.ckpt"]
        traced = has_trace_option()
        if traced:
            args += ["--trace", tmp_path / "run.trace.jsonl"]
        first = subprocess.run([sys.executable, "-m", "llmvm.cli", *map(str, args)], env=env, cwd=tmp_path,
                               capture_output=True, text=True, timeout=60)
        assert first.returncode == 1 and "backend-error" in first.stdout, first.stderr
        server.script = ["500"] * 2  # and the resumed run meets the failure again, then finishes
        again = subprocess.run([sys.executable, "-m", "llmvm.cli", "resume", str(tmp_path / "run.ckpt")],
                               env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert again.returncode == 1 and "backend-error" in again.stdout, again.stderr
        last = subprocess.run([sys.executable, "-m", "llmvm.cli", "resume", str(tmp_path / "run.ckpt")],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert last.returncode == 0 and "halted after 107 cycles" in last.stdout, last.stderr
    assert {r["headers"]["authorization"] for r in server.requests} == {f"Bearer {KEY}"}  # it was used
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "config.toml"]
    assert {p.name for p in written} >= {"cache.sqlite", "run.ckpt"} | ({"run.trace.jsonl"} if traced else set())
    for p in written:
        data = p.read_bytes()
        assert not any(f.encode() in data for f in FRAGMENTS), f"the key leaked into {p}"
    for out in (first, again, last):
        assert not any(f in out.stdout + out.stderr for f in FRAGMENTS)


def test_a_key_given_as_an_option_is_a_clean_error_that_does_not_echo_it(capsys, monkeypatch):
    from llmvm.cli import main

    monkeypatch.setenv("OPENAI_API_KEY", "sk-other")
    monkeypatch.setattr("sys.argv", ["llmvm", "run", "1RB1LB_1LA1RZ", "-b", "openai", "-o", "model=m",
                                     "-o", f"api_key={KEY}", "-d", "schuurmans"])
    with pytest.raises(SystemExit) as e:
        main()
    out = capsys.readouterr()
    assert e.value.code == 2 and "unexpected keyword argument 'api_key'" in out.err and "never in -o" in out.err
    assert not any(f in out.out + out.err for f in FRAGMENTS)
