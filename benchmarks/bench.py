"""llmvm benchmarks: every number from one run on one machine, so ratios compare like with like.

    python benchmarks/bench.py [--quick] [--models] [--long] [--json benchmarks/results.json]

Sections:
  reference  the plain simulator's steps/s on long runs (BB(5), the longest U15,2 program)
  accel      the accelerated simulator on the same runs: time, macro steps, speed-up
  machine    the LLM machine with a deterministic backend (the oracle, answers memoised) on a long
             U15,2 run: cycles/s with and without the lockstep check, and the ratio to the reference
  calls      real backend calls per run vs distinct prompts, and prompt size per dialect
             (characters always; tokens with --models, using the local model's tokenizer)
  scaling    time and peak memory as the run grows (--long adds a 10^8-cycle run)
  models     (--models) the embedded model: seconds per prompt, with and without KV prefix reuse
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from llmvm import __version__  # noqa: E402
from llmvm.accel import Accelerated  # noqa: E402
from llmvm.backends.oracle import OracleBackend  # noqa: E402
from llmvm.compile import compile_machine  # noqa: E402
from llmvm.dialect import available, load as load_dialect  # noqa: E402
from llmvm.program import TuringMachine, load  # noqa: E402
from llmvm.reference import Reference  # noqa: E402
from llmvm.run import run  # noqa: E402
from llmvm import tapes, verify  # noqa: E402


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


@functools.cache
def longest_u15_2() -> tuple[str, TuringMachine]:
    """U15,2 on the compiled tape in programs/compiled/ with the most expected steps."""
    best: tuple[int, str] | None = None
    for path in sorted(ROOT.glob("programs/compiled/*.u15_2.yaml")):
        steps = tapes.load(str(path)).expect.get("u15_2 steps", 0)
        if best is None or steps > best[0]:
            best = (steps, str(path.relative_to(ROOT)))
    assert best, "no compiled tapes in programs/compiled/"
    tf = tapes.load(str(ROOT / best[1]))
    return best[1], tapes.input_for(load(ROOT / "programs" / "u15_2.yaml"), tf, best[1])


def reference_section(results: dict, quick: bool) -> None:
    bb5 = load(ROOT / "programs" / "bb5.yaml")
    limit = 10_000_000 if quick else 47_176_870
    out, secs = timed(lambda: Reference(bb5).run(limit))
    results["reference_bb5"] = {"steps": out.steps, "seconds": secs, "steps_per_s": out.steps / secs}
    print(f"reference  BB(5) {out.steps:,} steps: {secs:.2f} s = {out.steps / secs / 1e6:.2f} M steps/s")
    name, u = longest_u15_2()
    out, secs = timed(lambda: Reference(u).run(10**8 if quick else 10**10))
    results["reference_u15_2"] = {"program": name, "steps": out.steps, "seconds": secs,
                                  "steps_per_s": out.steps / secs}
    print(f"reference  {name} {out.steps:,} steps: {secs:.3f} s = {out.steps / secs / 1e6:.2f} M steps/s")


def accel_section(results: dict) -> None:
    bb5 = load(ROOT / "programs" / "bb5.yaml")
    a = Accelerated(bb5, 3)
    out, secs = timed(lambda: a.run(10**9))
    assert (out.status, out.steps) == ("halted", 47_176_870)
    ones = sum(1 for s in out.config.tape.values() if s == "1")
    plain = results["reference_bb5"]
    full_plain_secs = 47_176_870 / plain["steps_per_s"]
    results["accel_bb5"] = {"seconds": secs, "macro_steps": a.macro_steps, "ones": ones,
                            "speedup_vs_plain": full_plain_secs / secs}
    print(f"accel      BB(5) to its halt: {secs * 1000:.1f} ms, {a.macro_steps:,} macro steps, {ones:,} ones "
          f"({full_plain_secs / secs:,.0f}x the plain simulator)")
    name, u = longest_u15_2()
    best = None
    for k in (4, 8, 16):
        acc = Accelerated(u, k)
        o, s = timed(lambda: acc.run(10**10))
        if best is None or s < best[1]:
            best = (k, s, acc.macro_steps, o.steps)
    k, s, macro, steps = best
    plain_secs = steps / results["reference_u15_2"]["steps_per_s"]  # the plain simulator, same steps
    results["accel_u15_2"] = {"program": name, "steps": steps, "block": k, "seconds": s, "macro_steps": macro,
                              "speedup_vs_plain": plain_secs / s}
    print(f"accel      {name} to its halt ({steps:,} steps): {s:.2f} s with blocks of {k}, {macro:,} macro steps "
          f"({plain_secs / s:,.1f}x plain)")


def machine_section(results: dict, cycles: int = 20_000_000) -> None:
    """The LLM machine (oracle, memoised) on the first ``cycles`` of the long U15,2 run, and the
    plain reference on the same steps, side by side."""
    name, u = longest_u15_2()
    image = compile_machine(u, load_dialect("lookup"))
    ref_out, ref_secs = timed(lambda: Reference(u).run(cycles))
    ref_rate = ref_out.steps / ref_secs
    results["reference_u15_2_prefix"] = {"steps": ref_out.steps, "steps_per_s": ref_rate}
    for check in (False, True):
        r = run(image, OracleBackend(dialect=image.dialect), max_steps=cycles, check=check)
        assert r.status in ("halted", "step-limit"), r.error
        key = "machine_checked" if check else "machine_unchecked"
        results[key] = {"program": name, "cycles": r.cycles, "seconds": r.seconds, "cycles_per_s": r.cycles / r.seconds,
                        "calls": r.calls, "ratio_to_reference": (r.cycles / r.seconds) / ref_rate}
    u_, c_ = results["machine_unchecked"], results["machine_checked"]
    results["lockstep_cost"] = u_["cycles_per_s"] / c_["cycles_per_s"]
    print(f"machine    {name}, first {u_['cycles']:,} cycles: reference {ref_rate / 1e6:.2f} M steps/s; machine "
          f"{u_['cycles_per_s'] / 1e6:.2f} M cycles/s unchecked ({u_['ratio_to_reference']:.2f} of the reference), "
          f"{c_['cycles_per_s'] / 1e6:.2f} M cycles/s in lockstep (lockstep costs {results['lockstep_cost']:.2f}x); "
          f"{u_['calls']} calls")
    # the full read-compute-write cycle, every time (what a trace observer gets)
    seen = []
    r = run(image, OracleBackend(dialect=image.dialect), max_steps=20_000, check=False, observers=(seen.append,))
    results["machine_full_cycles"] = {"cycles": r.cycles, "cycles_per_s": r.cycles / r.seconds}
    print(f"machine    full read-compute-write cycles (no replay): {r.cycles / r.seconds:,.0f} cycles/s")


def calls_section(results: dict) -> None:
    name = "programs/compiled/double.u15_2.yaml"  # a whole compiled run, short enough for every dialect
    u = tapes.input_for(load(ROOT / "programs" / "u15_2.yaml"), tapes.load(str(ROOT / name)), name)
    out = {}
    for dialect in available():
        image = compile_machine(u, load_dialect(dialect))
        r = run(image, OracleBackend(dialect=image.dialect), max_steps=10**10, check=False)
        cases = verify.cases(image)
        sizes = [len(c.prompt) for c in cases]
        out[dialect] = {"cycles": r.cycles, "calls": r.calls, "distinct_prompts": len(cases),
                        "prompt_chars_mean": sum(sizes) / len(sizes), "prompt_chars_max": max(sizes)}
        print(f"calls      {dialect}: {r.calls} real calls for {r.cycles:,} cycles ({len(cases)} distinct prompts), "
              f"prompts {sum(sizes) / len(sizes):,.0f} chars on average")
    results["calls"] = out


_SCALING_CHILD = """
import gc, json, os, resource, sys
from llmvm.backends.oracle import OracleBackend
from llmvm.compile import compile_machine
from llmvm.dialect import load as load_dialect
from llmvm.program import load
from llmvm.run import run
from llmvm import tapes
def rss_mb():  # resident memory now (not the peak, which loading a tape file may set)
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
path = sys.argv[1]
machine = load(path) if not tapes.is_tape_file(path) else tapes.input_for(load("programs/u15_2.yaml"), tapes.load(path), path)
image = compile_machine(machine, load_dialect("lookup"))
gc.collect()
before = rss_mb()
r = run(image, OracleBackend(dialect=image.dialect), max_steps=int(sys.argv[2]), check=True)
span = (max(r.config.tape) - min(r.config.tape) + 1) if r.config.tape else 0
print(json.dumps({"cycles": r.cycles, "seconds": r.seconds, "status": r.status, "span": span,
                  "rss_before_mb": before, "rss_after_mb": rss_mb(),
                  "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def scaling_section(results: dict, long: bool) -> None:
    """Each size in a fresh process, so peak memory (max RSS) belongs to that run alone."""
    import subprocess

    rows = []
    sizes = [10**5, 10**6, 10**7] + ([10**8] if long else [])
    program = ROOT / "programs" / "bb5.yaml"  # 47M steps: long enough for every size but 10^8
    for n in sizes:
        if n > 47_176_870:
            name, _ = longest_u15_2()
            program = ROOT / name
        out = subprocess.run([sys.executable, "-c", _SCALING_CHILD, str(program), str(n)], check=True,
                             capture_output=True, text=True, cwd=ROOT)
        row = json.loads(out.stdout)
        row["program"] = program.name
        rows.append(row)
        print(f"scaling    {program.name} in lockstep, {row['cycles']:>11,} cycles: {row['seconds']:7.2f} s, "
              f"{row['cycles'] / row['seconds'] / 1e6:.2f} M cycles/s, RSS {row['rss_before_mb']:5.1f} -> "
              f"{row['rss_after_mb']:5.1f} MB (peak {row['rss_peak_mb']:.1f}), tape span {row['span']:,} cells")
    results["scaling"] = rows


def models_section(results: dict) -> None:
    from llmvm.backends.local import LocalBackend
    from llmvm.models import MODELS, installed

    name, u = longest_u15_2()
    out = {}
    for model in [m for m in MODELS.values() if installed(m)]:
        for dialect in available():
            image = compile_machine(u, load_dialect(dialect))
            cases = verify.cases(image)[:4]
            timings = {}
            answers = {}
            for reuse in (False, True):
                b = LocalBackend(model=model.name, prefix_reuse=reuse)
                t = time.perf_counter()
                answers[reuse] = [b.complete(c.prompt) for c in cases]
                timings[reuse] = (time.perf_counter() - t) / len(cases)
            same = [a.text for a in answers[False]] == [a.text for a in answers[True]]
            tokens = sum(a.tokens_in or 0 for a in answers[False]) / len(cases)
            out[f"{model.name}/{dialect}"] = {"prompt_tokens_mean": tokens, "s_per_prompt": timings[False],
                                              "s_per_prompt_reuse": timings[True], "reuse_same_answers": same}
            print(f"models     {model.name} / {dialect}: {tokens:,.0f} prompt tokens, {timings[False]:.2f} s/prompt fresh, "
                  f"{timings[True]:.2f} s/prompt with prefix reuse ({timings[False] / timings[True]:.1f}x), "
                  f"answers {'identical' if same else 'DIFFER'}")
    results["models"] = out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="shorter reference runs")
    ap.add_argument("--long", action="store_true", help="add a 10^8-cycle scaling run (about a minute)")
    ap.add_argument("--models", action="store_true", help="time the installed local models (slow)")
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results.json"), help="where to write the numbers")
    args = ap.parse_args()
    results: dict = {"llmvm": __version__, "python": platform.python_version(), "machine": platform.machine(),
                     "processor": platform.processor(), "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    reference_section(results, args.quick)
    accel_section(results)
    machine_section(results, 10**7 if args.quick else 2 * 10**7)
    calls_section(results)
    scaling_section(results, args.long)
    if args.models:
        models_section(results)
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print(f"numbers written to {args.json}")


if __name__ == "__main__":
    main()
