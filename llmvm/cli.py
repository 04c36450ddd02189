"""The command line: ``llmvm run | simulate | programs | backends``.

Library errors (``LLMVMError``) become clean messages in one place, ``main()``; every option that
names something the user sets often also reads an environment variable (``LLMVM_BACKEND``, …).
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable

import click

from llmvm import backends as backends_mod
from llmvm import checkpoint as checkpoint_mod
from llmvm import dialect as dialect_mod
from llmvm import program as program_mod
from llmvm import bitag, tapes
from llmvm.backends.cache import MODES, Cached, Store
from llmvm.checkpoint import Checkpointer, Setup
from llmvm.cli_compile import compile_cmd
from llmvm.cli_trace import trace as trace_group
from llmvm.compile import compile_machine
from llmvm.errors import LLMVMError
from llmvm.program import Configuration, TuringMachine, tape_string
from llmvm.reference import Reference
from llmvm.run import RunResult, run
from llmvm.trace import traced_run

PROGRAMS_DIR = Path(__file__).resolve().parent.parent / "programs"
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "llmvm" / "completions.sqlite"
EXIT = {"halted": 0, "step-limit": 3}  # every other status exits 1


def _load_machine(path: str, input_: str | None, head: int | None,
                  compiled: tapes.TapeFile | None = None) -> TuringMachine:
    """The program, on the tape --input gives: symbols, or the compiled U15,2 tape already loaded."""
    machine = program_mod.load(path)
    if compiled is not None:
        if head is not None:
            raise click.BadParameter("a compiled tape fixes the head; drop --head", param_hint="--head")
        return tapes.input_for(machine, compiled, str(input_))
    if input_ is not None:
        machine = machine.with_input(tuple(input_), head or 0)
    elif head is not None:
        machine = machine.with_input(machine.input, head)
    return machine


def _options(pairs: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--option")
        out[key.strip().replace("-", "_")] = value
    return out


class Progress:
    """A progress line on stderr (cycles/s, calls, cache hits, state), at most 4 times a second."""

    INTERVAL = 0.25  # seconds between refreshes: the machine pays one clock read per report

    def __init__(self, enabled: bool, cpu: Cached | None = None):
        self.enabled = enabled
        self.cpu = cpu
        self.width = 0  # of the line shown last, to blank it out
        self.started = self.shown = time.perf_counter()

    def __call__(self, cycles: int, state: str | None = None) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.shown >= self.INTERVAL:
            self.shown = now
            text = self.line(cycles, state, now - self.started)
            click.echo("\r" + text.ljust(self.width), nl=False, err=True)
            self.width = len(text)

    def line(self, cycles: int, state: str | None, seconds: float) -> str:
        """The text of the progress line."""
        text = f"  cycle {cycles:,}  {cycles / max(seconds, 1e-9):,.0f} cycles/s"
        if self.cpu is not None:
            calls = self.cpu.calls
            text += f"  {calls:,} calls  {max(cycles - calls, 0):,} cache hits"
        return text + (f"  state {state}" if state is not None else "")

    def done(self) -> None:
        if self.enabled and self.width:
            click.echo("\r" + " " * self.width + "\r", nl=False, err=True)


@dataclass(frozen=True)
class CpuSpec:
    """The backend a command should use, as the user gave it: name, options, dialect, cache."""

    backend: str
    options: tuple[str, ...]
    dialect: str
    cache: str
    cache_mode: str

    def resolve(self) -> "CpuSpec":
        """Turn ``auto`` into a concrete backend and dialect, and say which on stderr."""
        from llmvm.models import MODELS, best_local

        backend, options, dialect = self.backend, self.options, self.dialect
        if backend == "auto":
            spec = best_local()
            if spec is not None:
                backend = "local"
                options = (f"model={spec.name}", f"chat={str(spec.chat_template).lower()}", *options)
            else:
                backend = "oracle"
                hint = MODELS["qwen2.5-0.5b"]
                click.echo("note: no local model installed, so the CPU is the oracle — deterministic, "
                           "NOT an LLM. For a real one: CMAKE_ARGS=-DGGML_NATIVE=OFF pip install -e '.[local,qwen]' "
                           f"(llama.cpp + {hint.description}), or see README: Backends.", err=True)
        if dialect == "auto":
            model = dict(o.partition("=")[::2] for o in options).get("model", "")
            dialect = MODELS[model].dialect if backend == "local" and model in MODELS else "schuurmans"
        return replace(self, backend=backend, options=options, dialect=dialect)

    def build(self, dialect: "dialect_mod.Dialect", *, memo: bool = True) -> Cached:
        inner = backends_mod.create(self.backend, dialect=dialect, **_options(self.options))
        # a disk cache only for real models: deterministic stand-ins are cheaper than a look-up
        store = Store(self.cache) if inner.is_llm and self.cache_mode != "off" else None
        return Cached(inner, dialect=dialect.name, store=store, mode=self.cache_mode, memo=memo)


def cpu_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that choose the CPU, shared by every command that talks to a backend."""
    options = [
        click.option("--backend", "-b", default="auto", envvar="LLMVM_BACKEND", show_default=True,
                     help="The CPU: a name from `llmvm backends`; auto = the certified local model "
                          "if installed, else the oracle (not an LLM)."),
        click.option("--option", "-o", "backend_options", multiple=True, metavar="KEY=VALUE",
                     help="A backend option (repeatable), e.g. -o model=qwen2.5:0.5b."),
        click.option("--dialect", "-d", default="auto", envvar="LLMVM_DIALECT", show_default=True,
                     help="Prompt dialect: a name in prompts/ or a YAML file; auto = the dialect the "
                          "model is certified in (schuurmans otherwise)."),
        click.option("--cache", default=str(DEFAULT_CACHE), envvar="LLMVM_CACHE", show_default=True,
                     help="SQLite file of model completions, shared between runs (LLM backends only)."),
        click.option("--cache-mode", type=click.Choice(MODES), default="use", show_default=True,
                     help="use | refresh (ask again) | replay-only (never call the model) | off."),
    ]
    for option in reversed(options):
        command = option(command)

    @functools.wraps(command)
    def wrapper(*args: Any, backend: str, backend_options: tuple[str, ...], dialect: str, cache: str,
                cache_mode: str, **kwargs: Any) -> Any:
        spec = CpuSpec(backend, backend_options, dialect, cache, cache_mode).resolve()
        return command(*args, cpu_spec=spec, **kwargs)

    return wrapper


# --------------------------------------------------------------------------------------- commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="llmvm")
def cli() -> None:
    """A language model as the CPU of a stored-instruction computer (Schuurmans 2023)."""


@cli.command("run")
@click.argument("program_path", metavar="PROGRAM")
@cpu_options
@click.option("--max-steps", default=1_000_000, show_default=True, help="Stop after this many cycles.")
@click.option("--input", "input_", metavar="SYMBOLS|FILE",
              help="Start on this tape instead of the program's input: symbols, or a tape from 'llmvm compile'.")
@click.option("--head", type=int, help="Start with the head on this cell.")
@click.option("--no-check", is_flag=True, help="Do not compare with the reference simulator after every cycle.")
@click.option("--no-memo", is_flag=True, help="Ask the backend every cycle, even for a prompt it has answered.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress line and no report (errors still go to stderr).")
@click.option("--trace", "trace_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="Record every cycle in this JSON Lines file (README: Trace format); see `llmvm trace`.")
@click.option("--checkpoint", "checkpoint_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="Keep the run's whole state in FILE (replaced atomically) as it goes and when it stops; "
                   "continue it with `llmvm resume FILE`.")
@click.option("--checkpoint-every", default=0, metavar="N", help="With --checkpoint: also save every N cycles.")
@click.option("--checkpoint-seconds", default=30.0, show_default=True, metavar="S",
              help="With --checkpoint: save every S seconds (0: only as the run starts and ends).")
@click.option("--on-bad-completion", "retries", default="stop", show_default=True, metavar="stop|retry:N",
              callback=lambda ctx, param, value: _retries(value),
              help="A completion the harness refuses stops the run (checkpoint kept), or is asked again up to N times.")
def run_cmd(program_path: str, cpu_spec: "CpuSpec", max_steps: int, input_: str | None, head: int | None,
            no_check: bool, no_memo: bool, as_json: bool, quiet: bool, trace_path: str | None,
            checkpoint_path: str | None, checkpoint_every: int, checkpoint_seconds: float, retries: int) -> None:
    """Run PROGRAM (a YAML file or compact notation) on the LLM machine."""
    compiled = _compiled_tape(input_, quiet or as_json, max_steps)
    machine = _load_machine(program_path, input_, head, compiled)
    image = compile_machine(machine, dialect_mod.load(cpu_spec.dialect))
    cpu = cpu_spec.build(image.dialect, memo=not no_memo)
    progress = Progress(not (quiet or as_json) and sys.stderr.isatty(), cpu)
    if not (quiet or as_json):
        _header(machine, image.dialect.name, backends_mod.label(cpu.inner), max_steps)
    saver = None
    if checkpoint_path:
        setup = Setup.create(program_path, dialect=cpu_spec.dialect, backend=cpu_spec.backend,
                             options=cpu_spec.options, cache=cpu_spec.cache, cache_mode=cpu_spec.cache_mode,
                             max_steps=max_steps, check=not no_check, memo=not no_memo, retries=retries,
                             every=checkpoint_every, seconds=checkpoint_seconds,
                             tape=input_ if compiled else "")
        saver = Checkpointer(checkpoint_path, setup)
    options = dict(max_steps=max_steps, check=not no_check, progress=progress, checkpoint=saver, retries=retries)
    if trace_path:
        result = traced_run(trace_path, image, cpu, program=program_path, **options)
    else:
        result = run(image, cpu, **options)
    _conclude(result, machine, progress, as_json, quiet, checkpoint_path, compiled)


def _compiled_tape(input_: str | None, quiet: bool, max_steps: int) -> tapes.TapeFile | None:
    """The tape file --input names, if it is one; its sizes and expectations are shown first."""
    if input_ is None or not tapes.is_tape_file(input_):
        return None
    tf = tapes.load(input_)
    if not quiet:
        click.echo(tf.summary())
    expected = tf.expect.get("u15_2 steps")
    if isinstance(expected, int) and expected > max_steps:
        click.echo(f"warning: --max-steps {max_steps:,} stops this run before U15,2's expected halt at "
                   f"step {expected:,}; pass --max-steps {expected + 1:,} or more", err=True)
    return tf


def _decoded(tf: tapes.TapeFile | None, config: Configuration) -> dict[str, Any] | None:
    """What a halted U15,2 tape says about the compiled source (None if not applicable)."""
    return tapes.decode(tf, config) if tf and config.halted else None


def _retries(value: str) -> int:
    """--on-bad-completion: stop = 0 retries, retry:N = N."""
    kind, _, n = value.partition(":")
    if value == "stop" or (kind == "retry" and n.isdigit() and int(n) > 0):
        return int(n or 0)
    raise click.BadParameter(f"{value!r}: use stop or retry:N with N ≥ 1", param_hint="--on-bad-completion")


@cli.command("resume")
@click.argument("checkpoint_path", metavar="CHECKPOINT", type=click.Path(dir_okay=False))
@click.option("--max-steps", type=int, help="Stop after this many cycles in all [default: the run's own limit].")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress line and no report (errors still go to stderr).")
@click.option("--trace", "trace_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write a trace of the resumed part of the run (JSON Lines; see README: Traces).")
def resume_cmd(checkpoint_path: str, max_steps: int | None, as_json: bool, quiet: bool, trace_path: str | None) -> None:
    """Continue a run from its CHECKPOINT, to exactly where the run would have ended uninterrupted."""
    ck = checkpoint_mod.load(checkpoint_path)
    image = checkpoint_mod.rebuild(ck)
    setup = replace(ck.setup, max_steps=max_steps) if max_steps else ck.setup
    spec = CpuSpec(setup.backend, setup.options, setup.dialect, setup.cache, setup.cache_mode)
    cpu = spec.build(image.dialect, memo=setup.memo)
    progress = Progress(not (quiet or as_json) and sys.stderr.isatty(), cpu)
    if not (quiet or as_json):
        _header(image.machine, image.dialect.name, backends_mod.label(cpu.inner), setup.max_steps)
        click.echo(f"resume   from cycle {ck.resume.cycle:,} ({ck.status}) in {checkpoint_path}")
    options = dict(max_steps=setup.max_steps, check=setup.check, progress=progress, start=ck.resume,
                   checkpoint=Checkpointer(checkpoint_path, setup), retries=setup.retries)
    if trace_path:
        result = traced_run(trace_path, image, cpu, program=setup.program, **options)
    else:
        result = run(image, cpu, **options)
    compiled = tapes.load(setup.tape) if setup.tape else None  # to decode the halted tape
    _conclude(result, image.machine, progress, as_json, quiet, checkpoint_path, compiled)


def _conclude(result: RunResult, machine: TuringMachine, progress: Progress, as_json: bool, quiet: bool,
              checkpoint: str | None, compiled: tapes.TapeFile | None = None) -> None:
    """Report a run (JSON, text, or only its error), say how to resume it, and exit with its status."""
    progress.done()
    decoded = _decoded(compiled, result.config)
    if as_json:
        click.echo(json.dumps({**_result_json(result, machine), **({"decoded": decoded} if decoded else {})}, indent=2))
    elif not quiet:
        _report(result, machine)
        _print_decoded(decoded)
    elif result.error:
        click.echo(f"error: {result.error}", err=True)
    if checkpoint and result.status not in ("halted", "diverged") and not as_json:
        click.echo(f"checkpoint saved in {checkpoint}; continue with: llmvm resume {checkpoint}", err=True)
    sys.exit(EXIT.get(result.status, 1))


@cli.command("verify")
@click.argument("program_path", metavar="PROGRAM")
@cpu_options
@click.option("--certificate", "-c", "cert_path", type=click.Path(dir_okay=False),
              help="Where to write the JSON certificate [default: PROGRAM.DIALECT.BACKEND.certificate.json].")
@click.option("--repair", default=0, show_default=True, metavar="ROUNDS",
              help="Add failing cases to the few-shot prefix and re-verify all cases, up to ROUNDS times.")
@click.option("--save-dialect", type=click.Path(dir_okay=False),
              help="With --repair: write the repaired dialect here, to run it with --dialect.")
@click.option("--workers", default=0, help="Concurrent requests [default: the backend's own limit].")
def verify_cmd(program_path: str, cpu_spec: CpuSpec, cert_path: str | None, repair: int,
               save_dialect: str | None, workers: int) -> None:
    """Certify a backend on PROGRAM: ask every distinct prompt once and check every answer."""
    from llmvm import verify

    # a certificate is about the model, not the cache: ask afresh (and store) unless told replay-only
    spec = replace(cpu_spec, cache_mode="refresh") if cpu_spec.cache_mode == "use" else cpu_spec
    image = compile_machine(program_mod.load(program_path), dialect_mod.load(spec.dialect))
    cpu = spec.build(image.dialect, memo=False)
    workers = workers or int(getattr(cpu.inner, "concurrency", 1))
    click.echo(f"verifying {image.machine.name} in dialect {image.dialect.name} on {backends_mod.label(cpu.inner)}")
    for round_ in range(repair + 1):
        todo = verify.cases(image)
        verdicts = verify.ask_all(cpu, todo, workers=workers)
        failed = [v for v in verdicts if not v.passed]
        click.echo(f"round {round_ + 1}: {len(todo) - len(failed)}/{len(todo)} cases pass")
        if not failed or round_ == repair:
            break
        image = verify.repair(image, failed)
    _verdict_table(verdicts)
    cert = verify.certificate(image, cpu.inner, verdicts, rounds=round_ + 1)
    stem = Path(program_path).stem if Path(program_path).exists() else "program"
    path = Path(cert_path or f"{stem}.{image.dialect.name}.{cpu.inner.name}.certificate.json")
    path.write_text(verify.dump(cert) + "\n", encoding="utf-8")
    if save_dialect and repair:
        dialect_mod.save(image.dialect, save_dialect)
        click.echo(f"repaired dialect written to {save_dialect}")
    passed, total = cert["passed"], cert["cases"]
    verdict = "CERTIFIED" if passed == total else "FAILED"
    click.echo(f"{verdict}: {passed}/{total} cases; certificate written to {path}")
    sys.exit(0 if passed == total else 1)


def _verdict_table(verdicts: list[Any]) -> None:
    click.echo(f"{'state':6} {'read':5} {'ok':3} answer")
    for v in verdicts:
        mark = click.style("✓", fg="green") if v.passed else click.style("✗", fg="red")
        click.echo(f"{v.case.state:6} {','.join(v.case.symbols):5} {mark:3} {v.answer.strip()!r}")
        if not v.passed:
            click.echo(f"{'':16}expected {v.case.expected.strip()!r} ({v.reason})")


@cli.command("simulate")
@click.argument("program_path", metavar="PROGRAM")
@click.option("--max-steps", default=100_000_000, show_default=True, help="Stop after this many steps.")
@click.option("--input", "input_", metavar="SYMBOLS|FILE",
              help="Start on this tape instead of the program's input: symbols, or a tape from 'llmvm compile'.")
@click.option("--head", type=int, help="Start with the head on this cell.")
@click.option("--accelerate", "-a", "block", type=int, default=0, metavar="K", is_flag=False, flag_value=3,
              help="Macro steps over blocks of K cells with whole-run jumps (-a alone: K=3). Same results.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def simulate_cmd(program_path: str, max_steps: int, input_: str | None, head: int | None, block: int,
                 as_json: bool) -> None:
    """Run PROGRAM on the reference simulator only (the ground truth; no backend)."""
    from llmvm.accel import Accelerated

    compiled = _compiled_tape(input_, as_json, max_steps)
    machine = _load_machine(program_path, input_, head, compiled)
    started = time.perf_counter()
    out = Accelerated(machine, block).run(max_steps) if block else Reference(machine).run(max_steps)
    seconds = time.perf_counter() - started
    decoded = _decoded(compiled, out.config)
    if as_json:
        click.echo(json.dumps({"status": out.status, "steps": out.steps, "seconds": seconds,
                               **_config_json(out.config, machine), **({"decoded": decoded} if decoded else {})},
                              indent=2))
    else:
        click.echo(f"{machine.name}: {out.status} after {out.steps:,} steps "
                   f"({seconds:.3f} s, {out.steps / max(seconds, 1e-9):,.0f} steps/s)")
        _print_config(out.config, machine)
        _print_decoded(decoded)
    sys.exit(EXIT.get(out.status, 1))


@cli.command("programs")
def programs_cmd() -> None:
    """List the shipped programs."""
    for path in sorted(PROGRAMS_DIR.glob("*.yaml")):
        try:
            m = program_mod.load(path)
            summary = (m.description.strip().splitlines() or [""])[0]
            click.echo(f"{path.name:24} {len(m.states):3} states {len(m.symbols):3} symbols  {summary}")
        except LLMVMError as e:
            click.echo(f"{path.name:24} (invalid: {e})")
    for path in sorted((PROGRAMS_DIR / "compiled").glob("*.yaml")):
        name = f"compiled/{path.name}"
        try:
            if tapes.is_tape_file(str(path)):
                tf = tapes.load(str(path))
                steps = tf.expect.get("u15_2 steps")
                click.echo(f"{name:36} U15,2 tape, {len(tf.tape.cells):,} cells"
                           f"{f', halts after {steps:,} steps' if steps else ''}: {tf.encodes.get('description', '')}")
            else:
                system = bitag.load(str(path))
                click.echo(f"{name:36} bi-tag system, |A| = {len(system.A)}, |E| = {len(system.E)}: {system.description}")
        except LLMVMError as e:
            click.echo(f"{name:36} (invalid: {e})")


@cli.command("models")
def models_cmd() -> None:
    """List the local models llmvm knows how to load from installed packages."""
    from llmvm import models

    for spec in models.MODELS.values():
        state = "installed" if models.installed(spec) else f"not installed: {spec.install_hint()}"
        click.echo(f"{spec.name:14} {spec.size / 1e6:6.0f} MB  {spec.description}\n{'':24}{state}")


@cli.command("backends")
def backends_cmd() -> None:
    """List the backends that are installed."""
    for name, ep in sorted(backends_mod.registry().items()):
        try:
            cls = ep.load()
            kind = "LLM" if cls.is_llm else "deterministic, not an LLM"
            doc = (sys.modules[cls.__module__].__doc__ or "").strip().splitlines()
            summary = doc[0].split(": ", 1)[-1] if doc else ""  # drop the "``name``: " lead-in
            click.echo(f"{name:10} {kind:28} {summary}")
        except Exception as e:  # a broken plugin must not hide the others
            click.echo(f"{name:10} unavailable: {e}")


# --------------------------------------------------------------------------------------- reports


def _header(machine: TuringMachine, dialect: str, backend: str, max_steps: int) -> None:
    click.echo(f"program  {machine.name} ({machine.source}): {len(machine.states)} states, "
               f"{len(machine.symbols)} symbols, dialect {dialect}")
    click.echo(f"backend  {backend}")
    click.echo(f"limit    {max_steps:,} cycles")


def _report(r: RunResult, machine: TuringMachine) -> None:
    checked = "checked against the reference at every cycle" if r.checked else "NOT checked (--no-check)"
    click.echo(f"status   {r.status} after {r.cycles:,} cycles ({checked})")
    _print_config(r.config, machine)
    click.echo(f"calls    {r.calls:,} backend calls, {r.cache_hits:,} answered from the cache")
    rate = r.cycles / r.seconds if r.seconds > 0 else 0.0
    click.echo(f"time     {r.seconds:.3f} s ({rate:,.0f} cycles/s)")
    if r.extra.get("bad_completions"):
        click.echo(f"refused  {len(r.extra['bad_completions'])} completion(s) the harness refused (see --json)")
    if r.error:
        click.echo(click.style(f"error    {r.error}", fg="red"), err=True)


def _print_decoded(decoded: dict[str, Any] | None) -> None:
    if decoded:
        for key in ("halting word", "result"):
            if key in decoded:
                click.echo(f"decoded  {key}: {decoded[key]}")
        click.echo(f"decoded  {'as expected' if decoded['as expected'] else 'NOT as expected (see the tape file)'}")


def _print_config(c: Configuration, machine: TuringMachine) -> None:
    click.echo(f"state    {c.state}{' (halted)' if c.halted else ''}   head {c.head}")
    click.echo(f"tape     {c.window(machine.blank)}")
    written = tape_string(c.tape, machine.blank)
    ones = sum(1 for s in c.tape.values() if s != machine.blank)
    shown = written if len(written) <= 120 else written[:57] + " … " + written[-57:]
    click.echo(f"written  {shown!r} ({ones} non-blank cells)")


def _config_json(c: Configuration, machine: TuringMachine) -> dict[str, Any]:
    return {"state": c.state, "halted": c.halted, "head": c.head,
            "tape": tape_string(c.tape, machine.blank),
            "nonblank": sum(1 for s in c.tape.values() if s != machine.blank)}


def _result_json(r: RunResult, machine: TuringMachine) -> dict[str, Any]:
    d = asdict(r)
    d.pop("config")
    d.pop("extra")
    if r.extra.get("bad_completions"):
        d["bad_completions"] = r.extra["bad_completions"]
    return {**d, **_config_json(r.config, machine)}


def main() -> None:
    """Entry point: library errors become one clear message and exit status 2."""
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except LLMVMError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)


cli.add_command(trace_group)
cli.add_command(compile_cmd)


if __name__ == "__main__":
    main()
