"""The Snakemake frontend at scale: a generated scatter/gather workflow (``a`` then ``b`` per sample, one
``gather``, ``all``: 2 × samples + 2 jobs; 5,000 samples = 10,002 jobs) through ``argo-migrate snakemake``, beside
Snakemake's own dry run of the same workflow on the same machine.

Usage: python benchmarks/bench_snakemake.py [--samples N] [-n RUNS]

Reports our compile time (the CLI end to end, a fresh process each run, median), Snakemake's ``-n --cores 1`` and
``-n --forceall --cores 1`` (median), the ratio ours / Snakemake (goal: at most 1.0), peak RSS, the size of the main
YAML document (Argo keeps the workflow object under 1 MiB), the fan-out found, the lint result, and the split of one
run between the Snakemake planning child and the rest.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024

SNAKEFILE = '''SAMPLES = [f"s{{i:05d}}" for i in range({samples})]

rule all:
    input: "results/summary.txt"

rule a:
    input: "data/{{sample}}.txt"
    output: "work/a/{{sample}}.txt"
    shell: "tr a-z A-Z < {{input}} > {{output}}"

rule b:
    input: "work/a/{{sample}}.txt"
    output: "work/b/{{sample}}.txt"
    shell: "wc -c < {{input}} > {{output}}"

rule gather:
    input: expand("work/b/{{sample}}.txt", sample=SAMPLES)
    output: "results/summary.txt"
    shell: "cat {{input}} > {{output}}"
'''


def scatter_gather(folder: Path, samples: int) -> Path:
    """The workflow and its raw inputs (Snakemake's dry run checks that they exist)."""
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    for i in range(samples):
        (data / f"s{i:05d}.txt").write_text(f"sample {i}\n")
    snakefile = folder / "Snakefile"
    snakefile.write_text(SNAKEFILE.format(samples=samples))
    return snakefile


def tool(name: str) -> list[str]:
    script = Path(sys.executable).with_name(name)
    return [str(script)] if script.exists() else [sys.executable, "-m", "migrator.cli" if name == "argo-migrate"
                                                   else name]


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, int, int]:
    """Wall seconds, CPU seconds (user + system, with the processes it waited for: a fairer figure than the wall
    time on a busy machine), exit status, peak RSS in KiB. wait4's maxrss is the largest of the child and the
    processes it waited for (for us: the CLI or its Snakemake planning child, whichever peaked higher), not their
    sum."""
    start = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status), usage.ru_maxrss


# One instrumented run in a fresh process: the pipeline as the CLI calls it, with timers around the planning child,
# reading its JSON into the typed plan, building the IR, and migrate (passes, emit, lint, write).
PHASES = '''
import json, resource, subprocess, sys, time
sys.path.insert(0, {repo!r})
import frontends.snakemake as fs
import frontends.snakemake.planner as planner
from migrator import pipeline
from frontends.snakemake import SnakemakeOptions

spent = {{"child": 0.0, "plan": 0.0, "build": 0.0, "migrate": 0.0}}

class Popen(subprocess.Popen):
    def wait(self, timeout=None):
        start = time.perf_counter()
        try:
            return super().wait(timeout)
        finally:
            spent["child"] += time.perf_counter() - start

def timer(name, fn):
    def run(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - start
    return run

planner.subprocess = type(sys)("subprocess_timed")
planner.subprocess.__dict__.update(subprocess.__dict__)
planner.subprocess.Popen = Popen
fs.plan = timer("plan", fs.plan)
fs.build = timer("build", fs.build)
pipeline._Batch.migrate = timer("migrate", pipeline._Batch.migrate)
start = time.perf_counter()
pipeline.run("snakemake", ["Snakefile"], {out!r}, pipeline.PipelineOptions(frontend=SnakemakeOptions()))
spent["total"] = time.perf_counter() - start
spent["rss_self_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
spent["rss_children_kib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps(spent))
'''


def phases(folder: Path, out: Path) -> dict[str, float]:
    code = PHASES.format(repo=str(REPO), out=str(out))
    done = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"instrumented run failed: {done.stderr[-500:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def documents(path: Path) -> list[str]:
    """The YAML file's documents as text (the emitter separates them with ``---`` lines)."""
    text = path.read_text()
    parts, current = [], []
    for line in text.splitlines(keepends=True):
        if line.rstrip() == "---":
            parts.append("".join(current))
            current = []
        else:
            current.append(line)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def shape(path: Path) -> dict[str, object]:
    """The main document (the Workflow or WorkflowTemplate) and its largest loop."""
    import yaml

    texts = documents(path)
    loaded = [yaml.safe_load(t) for t in texts]
    main = next(i for i, d in enumerate(loaded) if d.get("kind") in ("Workflow", "WorkflowTemplate", "CronWorkflow"))
    spec = loaded[main]["spec"]
    spec = spec.get("workflowSpec", spec)
    loops = [(task["name"], len(task.get("withItems") or []))
             for t in spec["templates"] if "dag" in t for task in t["dag"]["tasks"] if task.get("withItems")]
    return {"main_bytes": len(texts[main].encode()), "file_bytes": len(path.read_bytes()), "documents": len(texts),
            "templates": len(spec["templates"]), "loops": loops}


def report_rows(out: Path) -> tuple[int, int]:
    report = json.loads((out / "migration-report.json").read_text())
    rows = [row for wf in report["workflows"] for row in wf["tasks"]]
    return len(rows), len({row["source_id"] for row in rows})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("-n", "--runs", type=int, default=3, help="repetitions (default: %(default)s)")
    args = parser.parse_args()
    jobs = 2 * args.samples + 2
    with tempfile.TemporaryDirectory(prefix="argo-migrate-bench-smk-") as tmp:
        folder = Path(tmp, "wf")
        scatter_gather(folder, args.samples)
        ours, ours_cpu, rss, statuses = [], [], [], set()
        for i in range(args.runs):
            out = Path(tmp, f"out-{i}")
            wall, cpu, status, peak = timed([*tool("argo-migrate"), "snakemake", "Snakefile", "-o", str(out), "--quiet"],
                                       folder)
            ours.append(wall)
            ours_cpu.append(cpu)
            rss.append(peak)
            statuses.add(status)
        if statuses - {0, 1}:  # 1: an error diagnostic (e.g. AM401, too large), still a timing; 2 or a crash: none
            print(f"argo-migrate exited with {sorted(statuses)}; run it by hand to see why", file=sys.stderr)
            return 1
        dry: dict[str, list[tuple[float, float]]] = {"-n": [], "-n --forceall": []}
        for flags in dry:
            for _ in range(args.runs):
                wall, cpu, status, _ = timed([*tool("snakemake"), *flags.split(), "--cores", "1"], folder)
                if status != 0:
                    print(f"snakemake {flags} exited with {status}", file=sys.stderr)
                    return 1
                dry[flags].append((wall, cpu))
        split = phases(folder, Path(tmp, "out-phases"))
        out = Path(tmp, "out-0")
        manifest = next(out.glob("*.yaml"), None)
        if manifest is not None:
            info = shape(manifest)
            lint = subprocess.run([*tool("argo-migrate"), "lint", str(manifest)], capture_output=True, text=True)
            lint_line = f"{(lint.stdout.strip().splitlines() or ['?'])[-1]} (exit {lint.returncode})"
        else:
            report = json.loads((out / "migration-report.json").read_text())
            errors = [d["message"] for f in report["files"] for d in f["diagnostics"] if d["severity"] == "error"]
            info, lint_line = {}, "no manifest"
        rows, distinct = report_rows(out)

    wall, cpu = statistics.median(ours), statistics.median(ours_cpu)
    smk = {flags: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
           for flags, runs in dry.items()}
    rest = split["total"] - split["child"]
    print(f"workflow:             {args.samples} samples, {jobs} jobs (a, b per sample; gather; all)")
    print(f"runs:                 {args.runs} each")
    print(f"ours (median):        {wall:.3f} s wall, {cpu:.3f} s CPU ({1000 * wall / jobs:.3f} ms per job)")
    for flags, (seconds, cpu_seconds) in smk.items():
        print(f"snakemake {flags + ' --cores 1:':<24} {seconds:.3f} s wall, {cpu_seconds:.3f} s CPU; ours/snakemake: "
              f"{wall / seconds:.2f} wall, {cpu / cpu_seconds:.2f} CPU (goal <= 1.0)")
    print(f"phases (one run):     planning child {split['child']:.3f} s, the rest {rest:.3f} s "
          f"(of {split['total']:.3f} s)")
    print(f"  the rest:           plan JSON → typed plan {split['plan'] - split['child']:.3f} s, "
          f"build IR {split['build']:.3f} s, passes+emit+lint+write {split['migrate']:.3f} s, "
          f"other (imports: Hera, the backend; discovery; report) {rest - (split['plan'] - split['child']) - split['build'] - split['migrate']:.3f} s")
    print(f"peak RSS:             {max(rss) / 1024:.1f} MiB (largest process of the CLI's tree, wait4); "
          f"CLI process {split['rss_self_kib'] / 1024:.1f} MiB, planning child {split['rss_children_kib'] / 1024:.1f}"
          " MiB (one after the other)")
    if info:
        main_bytes = int(info["main_bytes"])  # type: ignore[call-overload]
        print(f"YAML main document:   {main_bytes} bytes ({main_bytes / MIB:.3f} MiB; under 1 MiB: {main_bytes < MIB});"
              f" file {info['file_bytes']} bytes in {info['documents']} document(s), {info['templates']} templates")
        loops = info["loops"]
        print(f"loops:                {', '.join(f'{n} × {k} items' for n, k in loops) or 'none'}")  # type: ignore[attr-defined]
    else:
        print(f"YAML:                 not written: {'; '.join(errors) or '?'}")
    print(f"report rows:          {rows} ({distinct} distinct source_ids)")
    print(f"lint:                 {lint_line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
