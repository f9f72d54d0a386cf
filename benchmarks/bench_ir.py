"""The IR at scale: generated Airflow DAGs of 100, 1,000 and 10,000 tasks through the whole CLI, and a generated IR
workflow shaped like Snakemake (N samples × 2 rules, each job reading the previous one's File, plus one gather)
through the passes, the Argo backend and lint.

Usage: python benchmarks/bench_ir.py [--samples N] [--sizes 100,1000,10000]

For each: compile time and peak RSS (each in a fresh process), YAML size, templates and DAG templates, lint result,
and milliseconds per task, so that the cost per task can be compared from 1,000 to 10,000.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def airflow_dag(n: int) -> str:
    """The issue's generator: n BashOperators in a binary tree, each with its own command."""
    lines = ["import pendulum", "from airflow import DAG",
             "from airflow.providers.standard.operators.bash import BashOperator",
             f"with DAG('big{n}', schedule='@daily', start_date=pendulum.datetime(2024, 1, 1, tz='UTC')):"]
    lines += [f"    t{i} = BashOperator(task_id='t{i}', bash_command='echo {i} {{{{ ds }}}}')" for i in range(n)]
    lines += [f"    t{(i - 1) // 2} >> t{i}" for i in range(1, n)]
    return "\n".join(lines) + "\n"


def timed(cmd: list[str]) -> tuple[float, int, int]:
    start = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    return time.perf_counter() - start, os.waitstatus_to_exitcode(status), usage.ru_maxrss


def shape(path: Path) -> tuple[int, int, int]:
    """YAML bytes, templates, DAG templates (over every document of the file)."""
    import yaml

    text = path.read_text()
    templates = dags = 0
    for document in yaml.safe_load_all(text):
        spec = document["spec"].get("workflowSpec", document["spec"])
        templates += len(spec["templates"])
        dags += sum(1 for t in spec["templates"] if "dag" in t)
    return len(text.encode()), templates, dags


def lint(path: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "migrator.cli", "lint", str(path)], cwd=REPO, capture_output=True,
                          text=True)
    return (done.stdout.strip().splitlines() or ["?"])[-1]


SNAKEMAKE_SHAPED = '''
import json, sys, time, resource
sys.path.insert(0, {repo!r})
from pathlib import Path
from backends.argo.emit import EmitOptions, Kind, emit
from backends.argo.yaml_out import dump
from migrator.passes import PASSES
from migrator.invariants import check
from migrator.ir import (DIRECTORY, FILE, ContainerRun, Group, InputRef, ItemRef, Loop, OutputPath, OutputRef,
                         Port, SourceLoc, Task, Workflow, text)
from migrator.stage import stage_in, stage_out

start = time.perf_counter()
n = {samples}
here = SourceLoc("Snakefile", 1)
w = Workflow(id="samples", origin=here)
raw = stage_in(w, (Port("data", DIRECTORY, path="data", default="inputs/data"),), here)
def job(rule, i, src, out):
    kind = DIRECTORY if rule == "trim" else FILE  # trim reads the staged data folder, align trim's file
    return Task(f"{{rule}}[sample=s{{i}}]", SourceLoc("Snakefile", 10 if rule == "trim" else 20), rule,
                ContainerRun("biocontainers/tools:1", (text("sh"), text("-c")),
                             (("mkdir -p $(dirname ", OutputPath("out"), ") && " + rule + " < ", InputRef("src"),
                               " > ", OutputPath("out")),)),
                inputs=(Port("src", kind),), arguments=(("src", (src,)),),
                outputs=(Port("out", FILE, path=out),))
for i in range(n):
    w.add_task(job("trim", i, raw["data"], f"trim/s{{i}}.fq")); w.add_edge("init", f"trim[sample=s{{i}}]")
    w.add_task(job("align", i, OutputRef(f"trim[sample=s{{i}}]", "out"), f"align/s{{i}}.bam"))
    w.add_edge(f"trim[sample=s{{i}}]", f"align[sample=s{{i}}]")
if {looped}:
    # The shape a Snakemake frontend writes for a rule chain over one wildcard: one looped group, each sample an
    # item, the jobs of one sample reading and writing their own files inside per-rule folders.
    w = Workflow(id="samples", origin=here)
    raw = stage_in(w, (Port("data", DIRECTORY, path="data", default="inputs/data"),), here)
    items = tuple(json.dumps({{"sample": f"s{{i}}"}}) for i in range(n))
    w.groups["per-sample"] = Group("per-sample", here, "per-sample", loop=Loop(items=items))
    def step(rule, src, folder):
        return Task(rule, SourceLoc("Snakefile", 10), rule, ContainerRun("biocontainers/tools:1", (text("sh"), text("-c")),
                    (("mkdir -p ", OutputPath("out"), " && " + rule + " < ", InputRef("src"), "/", ItemRef("sample"),
                      ".fq > ", OutputPath("out"), "/", ItemRef("sample"), ".fq"),)),
                    inputs=(Port("src", DIRECTORY),), arguments=(("src", (src,)),),
                    outputs=(Port("out", DIRECTORY, path=folder),), group="per-sample")
    w.add_task(step("trim", raw["data"], "trim")); w.add_edge("init", "trim")
    w.add_task(step("align", OutputRef("trim", "out"), "align")); w.add_edge("trim", "align")
gather = Task("gather", SourceLoc("Snakefile", 30), "gather",
              ContainerRun("biocontainers/tools:1", (text("sh"), text("-c")), (text("cat align/*.bam > all.bam"),)))
w.add_task(gather)
for i in range(n):
    if not {looped}:
        w.add_edge(f"align[sample=s{{i}}]", "gather")
if {looped}:
    w.add_edge("align", "gather")
assert check(w) == [], check(w)[:3]
for _, transform in PASSES:
    w = transform(w)
manifest = emit(w, "samples", EmitOptions(kind=Kind.WORKFLOW))
text_out = "---\\n".join(dump(d) for d in [manifest.document, *manifest.parts])
Path({out!r}).write_text(text_out)
print(json.dumps({{"seconds": time.perf_counter() - start, "jobs": 2 * n + 2, "tasks": w.graph.number_of_nodes(),
                  "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "diagnostics": [d.code for d in manifest.diagnostics]}}))
'''


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--samples", type=int, default=5000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="argo-migrate-bench-ir-"))
    script = Path(sys.executable).with_name("argo-migrate")
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "migrator.cli"]
    print(f"{'input':<28} {'tasks':>6} {'time s':>7} {'ms/task':>8} {'peak MiB':>9} {'YAML KiB':>9} {'templates':>9} "
          f"{'DAGs':>5}  lint")
    per_task: dict[int, float] = {}
    for n in [int(x) for x in args.sizes.split(",")]:
        source = work / f"big{n}.py"
        source.write_text(airflow_dag(n))
        out = work / f"out{n}"
        seconds, status, rss = timed([*cli, "airflow", str(source), "-o", str(out), "--quiet"])
        manifest = out / f"big{n}.yaml"
        if status not in (0, 1) or not manifest.exists():
            print(f"{'airflow binary tree':<28} {n:>6} {seconds:>7.2f}  not written (exit {status})")
            continue
        size, templates, dags = shape(manifest)
        per_task[n] = seconds * 1000 / n
        print(f"{'airflow binary tree':<28} {n:>6} {seconds:>7.2f} {per_task[n]:>8.3f} {rss / 1024:>9.1f} "
              f"{size / 1024:>9.1f} {templates:>9} {dags:>5}  {lint(manifest)}")
    if 1000 in per_task and 10000 in per_task:
        print(f"time per task, 10,000 vs 1,000 tasks: {per_task[10000] / per_task[1000]:.2f}x (goal: within ±30 %)")
    for looped, label in ((False, "snakemake-shaped, per job"), (True, "snakemake-shaped, looped")):
        out = work / f"samples-{looped}.yaml"
        code = SNAKEMAKE_SHAPED.format(repo=str(REPO), samples=args.samples, out=str(out), looped=looped)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        wall = time.perf_counter() - start
        try:
            info = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            print(f"{label}: failed (exit {done.returncode}) {done.stderr[-300:]}")
            return 1
        size, templates, dags = shape(out)
        jobs = info["jobs"]
        print(f"{label:<28} {jobs:>6} {info['seconds']:>7.2f} {info['seconds'] * 1000 / jobs:>8.3f} "
              f"{info['rss_kib'] / 1024:>9.1f} {size / 1024:>9.1f} {templates:>9} {dags:>5}  {lint(out)}")
        print(f"  ({info['tasks']} IR tasks; process wall {wall:.2f} s; diagnostics: "
              f"{sorted(set(info['diagnostics'])) or 'none'}; under 1 MiB of YAML: {size < 1024 * 1024})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
