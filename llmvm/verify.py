"""Certification: prove (or refute) that a backend executes a compiled program correctly.

The argument. The write policy confines ``op`` to the program's instruction texts (or ``halt``) and
every tape cell to a symbol. If every instruction reads only constants (``@[boot]``, other
read-only labels) and the symbol under the head (``@[@[i]]``), then every prompt the machine can
ever send is ``read(instruction, symbol)`` for one of finitely many pairs — 29 for U15,2. Ask each
once under greedy decoding; if every answer *parses to the same writes* as the expected answer, then
every cycle of every run, on every input, does exactly what the Turing machine does.

``check_finite`` verifies the premise on the image itself, so a dialect that reads anything else
(``@[i]``, say, which would make the prompt depend on the head position) cannot be certified.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Callable

from llmvm import __version__
from llmvm.backends import Backend, label
from llmvm.compile import Image, compile_machine
from llmvm.errors import BackendError, CompletionError, LLMVMError
from llmvm.memory import READ, parse

HEAD_SYMBOL = "@[@[i]]"  # the one per-step read a certifiable instruction may make


class CertificationError(LLMVMError):
    """The program cannot be certified by enumeration (its prompts are not a finite set)."""


@dataclass(frozen=True)
class Case:
    """One distinct prompt the program can send, and the answer it must get."""

    state: str
    symbols: tuple[str, ...]  # read symbols that produce this prompt
    prompt: str
    expected: str


@dataclass(frozen=True)
class Verdict:
    case: Case
    answer: str
    passed: bool
    reason: str = ""  # why it failed: does not parse / different writes / backend error
    latency: float = 0.0


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_finite(image: Image) -> None:
    """Raise CertificationError unless every instruction reads only constants and the head's symbol."""
    static = {"boot", *(image.labels[s] for s in image.machine.states)}
    for state, text in image.instructions.items():
        for m in READ.finditer(text.replace(HEAD_SYMBOL, "")):
            if m[1] not in static:
                raise CertificationError(
                    f"state {state}: its instruction reads @[{m[1]}], which can change from step to step; "
                    f"certification by enumeration needs reads of constants and {HEAD_SYMBOL} only"
                )


def cases(image: Image) -> list[Case]:
    """Every distinct prompt, found by running the real harness on each (instruction, symbol)."""
    check_finite(image)
    harness = image.harness()
    found: dict[str, Case] = {}
    for state, text in image.instructions.items():
        for symbol in image.machine.symbols:
            memory = image.memory()
            memory.update({"op": text, "i": 0, "0": symbol})
            prompt = harness.read(text, memory)
            expected = next(c.answer for c in image.cases if c.state == state and symbol in c.symbols)
            old = found.get(prompt)
            if old is None:
                found[prompt] = Case(state, (symbol,), prompt, expected)
            elif parse(old.expected) != parse(expected):
                raise CertificationError(
                    f"the dialect gives states {old.state} and {state} the same prompt with different answers")
            else:
                found[prompt] = replace(old, symbols=old.symbols + (symbol,))
    return list(found.values())


def judge(case: Case, answer: str) -> Verdict:
    """An answer passes when it parses to exactly the writes of the expected answer."""
    try:
        got = parse(answer)
    except CompletionError as e:
        return Verdict(case, answer, False, f"does not parse: {e.reason}")
    if got != parse(case.expected):
        return Verdict(case, answer, False, "different writes")
    return Verdict(case, answer, True)


def ask_all(backend: Backend, todo: list[Case], *, workers: int = 1,
            progress: Callable[[Verdict], None] | None = None) -> list[Verdict]:
    """Ask each case once (concurrently when the backend allows), in the cases' order."""

    def one(case: Case) -> Verdict:
        try:
            c = backend.complete(case.prompt)
        except BackendError as e:
            v = Verdict(case, "", False, f"backend error: {e}")
        else:
            v = replace(judge(case, c.text), latency=c.latency)
        if progress:
            progress(v)
        return v

    if workers <= 1:
        return [one(c) for c in todo]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, todo))


def repair(image: Image, failed: list[Verdict]) -> Image:
    """Add each failing case to the few-shot prefix as a solved demonstration (prompt + answer).

    Like the 2024 follow-up's verification loop. Works for dialects whose instructions start with
    ``@[boot]``: the case's text after the prefix, then the expected answer line, is a new example.
    """
    boot = image.dialect.boot
    demos = []
    for v in failed:
        if not v.case.prompt.startswith(boot):
            raise CertificationError("--repair needs a dialect whose instructions begin with @[boot]")
        demos.append(v.case.prompt[len(boot):] + v.case.expected.strip() + "\n")
    dialect = replace(image.dialect, boot=boot + "".join(demos), name=f"{image.dialect.name}+repair")
    return compile_machine(image.machine, dialect)


def certificate(image: Image, backend: Backend, verdicts: list[Verdict], *, rounds: int = 1) -> dict[str, Any]:
    """The JSON certificate: what was asked, what came back, and the verdict."""
    passed = sum(v.passed for v in verdicts)
    return {
        "llmvm": __version__,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "verdict": "certified" if passed == len(verdicts) else "failed",
        "passed": passed,
        "cases": len(verdicts),
        "backend": label(backend),
        "is_llm": backend.is_llm,
        "settings": backend.describe(),
        "program": {"name": image.machine.name, "source": image.machine.source, "digest": image.machine.digest()},
        "dialect": {"name": image.dialect.name, "source": image.dialect.source},
        "repair_rounds": rounds - 1,
        # the prompt program exactly as certified: the prefix and every instruction text
        "prompt_program": {"boot": image.dialect.boot, "instructions": dict(image.instructions)},
        "results": [
            {"state": v.case.state, "symbols": list(v.case.symbols), "prompt_sha256": sha256(v.case.prompt),
             "expected": v.case.expected, "answer": v.answer, "passed": v.passed, "reason": v.reason,
             "latency": round(v.latency, 4)}
            for v in verdicts
        ],
    }


def dump(cert: dict[str, Any]) -> str:
    return json.dumps(cert, indent=2, ensure_ascii=False)

