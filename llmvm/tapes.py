"""Compiled U15,2 tapes as files: build them from a Turing machine or a bi-tag system, write them
with a header that says what they encode and what to expect, load them for ``--input FILE``, and
read the source's result back from U15,2's halted tape.

A tape file is YAML: the tape itself (``cells``, folded into lines, with its sha256) and the head,
plus the bi-tag system it encodes (so the tape can be re-derived and checked on load) and, for a
compiled Turing machine, the legend that turns the halting bi-tag word into the machine's tape.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from llmvm import accel, bitag, tm2bitag, u15
from llmvm import program as program_mod
from llmvm.bitag import BiTag
from llmvm.errors import ProgramError
from llmvm.program import Configuration, TuringMachine

FORMAT, VERSION = "llmvm-u15_2-tape", 1
LINE = 100  # cells per line in the file
BLOCK = 16  # the accelerated simulator's block for U15,2 tapes, whose patterns have period 2 and 4


@dataclass(frozen=True)
class TapeFile:
    """A U15,2 input tape with what it encodes and what its run should give."""

    system: BiTag  # the bi-tag system on the tape (with its start word, and legend if from a TM)
    tape: u15.Tape
    encodes: Mapping[str, Any]  # kind (turing-machine | bi-tag), name, source, digest
    expect: Mapping[str, Any]  # bi-tag steps, halting word, result, u15_2 steps (when measured)

    @property
    def legend(self) -> tm2bitag.Legend | None:
        return tm2bitag.Legend.from_data(self.system.legend, self.system.source) if self.system.legend else None

    def summary(self) -> str:
        """Sizes and expectations, printed before a run starts."""
        steps, bitag_steps = self.expect.get("u15_2 steps"), self.expect.get("bi-tag steps")
        what = f"{self.encodes.get('kind')} {self.encodes.get('name')!r}"
        lines = [
            f"compiled tape: {len(self.tape.cells):,} cells (program {self.tape.program_cells:,}), "
            f"head on cell {self.tape.head:,}; encodes the {what}",
            f"  which computes: {self.encodes.get('description') or '(no description)'}",
            f"  bi-tag system: {len(self.system.A)} A-symbols, {len(self.system.E)} E-symbols, "
            + (f"{bitag_steps:,} steps to its halt" if isinstance(bitag_steps, int) else "steps to its halt unknown"),
            f"  U15,2 steps to the halt: {steps:,}" if isinstance(steps, int)
            else "  U15,2 steps to the halt: not measured (more than the compile budget)",
        ]
        if "result" in self.expect:
            lines.append(f"  expected result: {self.expect['result']}")
        return "\n".join(lines)


# ----------------------------------------------------------------------------- building


def read_source(path: str) -> tuple[BiTag, dict[str, Any]]:
    """A Turing machine program (compiled to bi-tag) or a bi-tag file, with what it encodes."""
    if _is_bitag(path):
        system = bitag.load(path)
        return system, {"kind": "bi-tag", "name": system.name, "description": system.description,
                        "source": path, "digest": _digest_bitag(system)}
    machine = program_mod.load(path)
    compiled = tm2bitag.compile_machine(machine)
    return compiled.system, {"kind": "turing-machine", "name": machine.name, "description": machine.description,
                             "source": path, "digest": machine.digest()}


def expectations(system: BiTag, *, bitag_steps: int, u15_steps: int) -> dict[str, Any]:
    """Run the bi-tag system directly (and U15,2 on its tape, within ``u15_steps``) for the header."""
    run = bitag.simulate(system, bitag_steps)
    if not run.halted:
        raise ProgramError(f"{system.source}: the bi-tag system did not halt within {bitag_steps:,} steps; "
                           f"U15,2 would not either (raise the limit if it is just long)")
    out: dict[str, Any] = {"bi-tag steps": run.steps, "halting word": " ".join(run.word)}
    if system.legend:
        legend = tm2bitag.Legend.from_data(system.legend, system.source)
        out["result"] = tm2bitag.decode(legend, run.word).describe(legend.blank)
    if u15_steps:
        outcome = accel.simulate(u15.machine(u15.encode(system)), u15_steps, block=BLOCK)
        if outcome.status == "halted":
            out["u15_2 steps"] = outcome.steps
    return out


# ----------------------------------------------------------------------------- files


def dump(tf: TapeFile) -> str:
    """The tape file's text: a comment header, then YAML."""
    cells = tf.tape.cells
    data = {
        "format": FORMAT, "version": VERSION,
        "encodes": dict(tf.encodes), "expect": dict(tf.expect),
        "head": tf.tape.head, "program cells": tf.tape.program_cells,
        "size": len(cells), "sha256": hashlib.sha256(cells.encode()).hexdigest(),
        "bi-tag": tf.system.to_data(),
        "cells": "\n".join(cells[i : i + LINE] for i in range(0, len(cells), LINE)),
    }
    header = "".join(f"# {line}\n" for line in tf.summary().splitlines())
    header += (f"# reference: llmvm simulate programs/u15_2.yaml -a {BLOCK} --max-steps 10000000000 --input FILE\n"
               "# LLM machine: llmvm run programs/u15_2.yaml --max-steps 10000000000 --input FILE\n")
    return header + yaml.safe_dump(data, sort_keys=False, width=LINE + 20, allow_unicode=True)


def is_tape_file(path: str) -> bool:
    """True for an existing file that declares the tape format (cheap: reads the head of the file)."""
    p = Path(path)
    if not p.is_file():
        return False
    with p.open(encoding="utf-8", errors="replace") as f:
        return any(line.startswith(f"format: {FORMAT}") for line, _ in zip(f, range(40)))


def load(path: str) -> TapeFile:
    """Load a tape file and check it: format, sha256, and that the tape encodes its bi-tag system."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ProgramError(f"{path}: cannot read tape file: {e}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ProgramError(f"{path}: not a U15,2 tape file (format: {FORMAT})")
    if data.get("version") != VERSION:
        raise ProgramError(f"{path}: tape file version {data.get('version')!r}; this llmvm reads {VERSION}")
    try:
        cells = "".join(str(data["cells"]).split())
        head, program_cells = int(data["head"]), int(data["program cells"])
        system = bitag.loads(yaml.safe_dump(data["bi-tag"]), source=f"{path} (bi-tag)")
        encodes, expect, digest = dict(data["encodes"]), dict(data["expect"]), str(data["sha256"])
    except (KeyError, TypeError, ValueError) as e:
        raise ProgramError(f"{path}: tape file is missing or mangles {e}") from None
    if hashlib.sha256(cells.encode()).hexdigest() != digest:
        raise ProgramError(f"{path}: the tape's sha256 does not match its header: the file was changed")
    tape = u15.Tape(cells, head, program_cells)
    if u15.encode(system) != tape:
        raise ProgramError(f"{path}: the tape is not the encoding of the bi-tag system it carries")
    return TapeFile(system, tape, encodes, expect)


def decode(tf: TapeFile, final: Configuration) -> dict[str, Any]:
    """Read U15,2's halted configuration back: the halting bi-tag word and, if known, the result."""
    if not final.halted:
        raise ProgramError("U15,2 has not halted: there is no result to decode yet")
    cells = "".join(final.tape.get(p, u15.C) for p in range(max(final.tape, default=-1) + 1))
    word = u15.decode(tf.system, cells)
    out: dict[str, Any] = {"halting word": " ".join(word)}
    legend = tf.legend
    if legend:
        out["result"] = tm2bitag.decode(legend, word).describe(legend.blank)
    out["as expected"] = all(out[k] == tf.expect[k] for k in out if k in tf.expect)
    return out


def input_for(machine: TuringMachine, tf: TapeFile, where: str) -> TuringMachine:
    """``machine`` started on the tape file's tape; it must be U15,2."""
    if _table_digest(machine) != _table_digest(u15.machine(tf.tape)):
        raise ProgramError(f"{where}: a compiled tape runs on U15,2 (programs/u15_2.yaml), not on {machine.name}")
    return machine.with_input(tuple(tf.tape.cells), tf.tape.head)


def _table_digest(machine: TuringMachine) -> str:
    """The digest of the machine itself, whatever its input."""
    return machine.with_input((), 0).digest()


def _is_bitag(path: str) -> bool:
    p = Path(path)
    if not p.is_file():
        return False
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False  # let the program loader report it
    return isinstance(data, dict) and "productions" in data


def _digest_bitag(system: BiTag) -> str:
    return hashlib.sha256(yaml.safe_dump({**system.to_data(), "name": ""}, sort_keys=True).encode()).hexdigest()
