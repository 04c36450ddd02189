"""The user's configuration file: where an API key may live instead of the environment.

``$LLMVM_CONFIG`` if set, else ``$XDG_CONFIG_HOME/llmvm/config.toml`` (``~/.config/llmvm/config.toml``)::

    [openai]
    api_key = "sk-..."

(a top-level ``api_key`` serves every backend). The file must be private to its owner (``chmod
600``): one that group or others can read or write is refused, since a key in it is as good as
published. A key in the environment wins over the file. Nothing here ever puts a value from the
file into a message.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from llmvm.errors import ConfigError


def path() -> Path:
    """The configuration file's path (which need not exist)."""
    named = os.environ.get("LLMVM_CONFIG")
    if named:
        return Path(named).expanduser()
    home = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(home) / "llmvm" / "config.toml"


def load() -> dict[str, Any]:
    """The configuration, or {} when there is no file; an unsafe or malformed file is a ConfigError."""
    p = path()
    try:
        f = open(p, "rb")
    except FileNotFoundError:
        if os.environ.get("LLMVM_CONFIG"):
            raise ConfigError(f"LLMVM_CONFIG names {p}, which does not exist; create it or unset LLMVM_CONFIG") from None
        return {}
    except OSError as e:
        raise ConfigError(f"{p}: cannot read the configuration ({e.strerror or e}); fix its permissions") from None
    with f:
        mode = os.fstat(f.fileno()).st_mode  # of the file opened, not of whatever the path names later
        if mode & 0o077:
            raise ConfigError(f"{p}: refused: group or others may read it (mode {stat.S_IMODE(mode):03o}) and it "
                              f"can hold API keys; run: chmod 600 {p}")
        try:
            return tomllib.load(f)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            where = str(e) if isinstance(e, tomllib.TOMLDecodeError) else "not UTF-8"
            raise ConfigError(f"{p}: not valid TOML ({where}); fix it or move it away") from None


def api_key(backend: str) -> str | None:
    """The API key for ``backend`` from the file: ``[backend] api_key``, else a top-level ``api_key``."""
    config = load()
    section = config.get(backend)
    key = section.get("api_key") if isinstance(section, dict) else None
    key = key if key is not None else config.get("api_key")
    if key is not None and not isinstance(key, str):
        raise ConfigError(f"{path()}: api_key must be a string in quotes")
    return key or None
