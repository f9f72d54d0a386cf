"""The Snakemake corpus (corpus/snakemake) against Snakemake 9.27.1 itself.

- **Job graph**: the jobs of each migration report (its task rows, Init/Finalize aside) are Snakemake's own jobs,
  and the order the migrated workflow imposes on them is Snakemake's (:mod:`tests.snakemake_graph`, whose oracle is
  the team's ground-truth script run in a child process).
- **Outputs**: each workflow that carries data is run twice, by ``snakemake --cores 2`` in one copy of its folder
  and, migrated, by ``argo-migrate run --local`` in another; every file Snakemake made is in the run's workspace
  with the same bytes. Wrapped jobs run with Snakemake's cached virtualenv standing for its image.
- **Diagnostics**: each approximated, dropped or wrapped directive is reported with its code at its rule.
- **Golden**: each folder migrates (``argo-migrate snakemake Snakefile`` run in it) to exactly the reviewed files
  under ``corpus/snakemake/expected/<workflow>/``; regenerate with ``ARGO_MIGRATE_UPDATE_GOLDEN=1`` and review.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import snakemake_graph
from tests.engines.tools import SNAKEMAKE, prefix
from tests.manifests import problems

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus" / "snakemake"
EXPECTED = CORPUS / "expected"
WORKFLOWS = tuple(folder.name for folder, _ in snakemake_graph.folders(CORPUS))
STAGES = ("stage-in", "stage-out")
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
SNAKEMAKE_IMAGE = "snakemake/snakemake:v9.27.1"
# Snakemake's own marker in a directory() output (it dates the folder), not a file the workflow makes.
BOOKKEEPING = ".snakemake_timestamp"
BENCHMARK_HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time"
# Runs need conda, a module system and the network (a wrapper is downloaded when its job runs): planned only.
NOT_RUN = {"environments"}

# What each approximated or wrapped directive of the corpus is reported as: (workflow, file, rule, code, words of
# the message).
DIAGNOSTICS = (
    ("kmer-scatter", "Snakefile", "trim", "AM204", "temp()"),
    ("kmer-scatter", "Snakefile", "merge", "AM204", "benchmark"),
    ("kmer-scatter", "Snakefile", "report", "AM204", "localrule"),
    ("expression", "Snakefile", "count", "AM204", "priority 10"),
    ("expression", "Snakefile", "matrix", "AM204", "shadow"),
    ("modular", "rules/prepare.smk", "sorted_peaks", "AM204", "priority 5"),
    ("modular", "modules/stats/stats.smk", "tally", "AM207", "licenses"),
    ("containers-resources", "Snakefile", "score", "AM207", "licenses"),
    ("containers-resources", "Snakefile", "lengths", "AM204", "localrule"),
    ("scripted", "Snakefile", "gc_table", "AM202", "script:"),
    ("scripted", "Snakefile", "report", "AM202", "run:"),
    ("environments", "Snakefile", "faidx", "AM202", "wrapped"),
    ("environments", "Snakefile", "stats", "AM202", "conda"),
    ("environments", "Snakefile", "depth", "AM202", "environment modules"),
    ("environments", "Snakefile", "plot_depth", "AM202", "notebook:"),
    ("pipes", "Snakefile", "stream", "AM205", "pipe()"),
    ("clusters", "Snakefile", "cluster", "AM203", "checkpoint"),
)

# Every directive of issue 9, and a pattern that finds it in the corpus's sources.
DIRECTIVES = {
    "named input": r"^\s+\w+=\S", "input list": r"input:\n\s+\[", "expand": r"\bexpand\(",
    "input function": r"^def \w+\(wildcards\):",
    "temp": r"\btemp\(", "protected": r"\bprotected\(", "directory": r"\bdirectory\(", "ancient": r"\bancient\(",
    "touch": r"\btouch\(", "pipe": r"\bpipe\(", "params function": r"params:\n\s+\w+=lambda", "threads": r"threads:",
    "mem_mb": r"\bmem_mb=", "mem": r"\bmem=\"", "disk_mb": r"\bdisk_mb=", "runtime": r"\bruntime=",
    "gpu": r"\bgpu=", "nvidia_gpu": r"\bnvidia_gpu=", "custom resource": r"\blicenses=",
    "container": r"^\s*container:", "singularity": r"singularity:", "conda": r"conda:", "envmodules": r"envmodules:",
    "log": r"\blog:", "benchmark": r"benchmark:", "retries": r"retries:", "priority": r"priority:",
    "localrule": r"localrule: True", "localrules": r"^localrules:", "group": r"group:", "shadow": r"shadow:",
    "message": r"message:", "wildcard_constraints": r"^wildcard_constraints:", "ruleorder": r"^ruleorder:",
    "include": r"^include:", "module": r"^module \w+:", "use rule": r"^use rule", "configfile": r"^configfile:",
    "run": r"\brun:", "script": r"\bscript:", "notebook": r"notebook:", "wrapper": r"wrapper:",
    "checkpoint": r"^checkpoint \w+:",
}


@dataclass(frozen=True)
class Migrated:
    folder: Path  # the copy it was migrated in
    out: Path
    report: dict[str, Any]

    @property
    def rows(self) -> list[dict[str, Any]]:
        (workflow,) = self.report["workflows"]
        return list(workflow["tasks"])

    @property
    def manifest(self) -> Path:
        return self.out / f"{self.folder.name}.yaml"


def _copy(name: str, into: Path) -> Path:
    dest = into / name  # the folder's name is the workflow's
    shutil.copytree(CORPUS / name, dest)
    return dest


def _migrate(name: str, root: Path) -> Migrated:
    folder = _copy(name, root / "src")
    out = root / "out" / name
    done = subprocess.run([sys.executable, "-m", "migrator.cli", "snakemake", "Snakefile", "-o", str(out),
                           "--quiet"], cwd=folder, env=ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return Migrated(folder, out, json.loads((out / "migration-report.json").read_text()))


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Migrated]:
    root = tmp_path_factory.mktemp("smk-corpus")
    with ThreadPoolExecutor(2) as pool:  # each migration plans in its own child process
        result = dict(zip(WORKFLOWS, pool.map(lambda n: _migrate(n, root), WORKFLOWS), strict=True))
    if os.environ.get("ARGO_MIGRATE_UPDATE_GOLDEN"):
        shutil.rmtree(EXPECTED, ignore_errors=True)
        for name, m in result.items():
            shutil.copytree(m.out, EXPECTED / name)
    return result


@pytest.fixture(scope="module")
def graphs() -> dict[str, tuple[snakemake_graph.Oracle, snakemake_graph.Ours]]:
    def both(name: str) -> tuple[snakemake_graph.Oracle, snakemake_graph.Ours]:
        return (snakemake_graph.oracle(CORPUS / name, "Snakefile"),
                snakemake_graph.ours(CORPUS / name, "Snakefile"))

    with ThreadPoolExecutor(2) as pool:
        return dict(zip(WORKFLOWS, pool.map(both, WORKFLOWS), strict=True))


def _sources(name: str) -> str:
    return "\n".join(p.read_text() for p in sorted((CORPUS / name).rglob("*"))
                     if p.is_file() and (p.name == "Snakefile" or p.suffix == ".smk"))


# --- the corpus ----------------------------------------------------------------------------------------------------


def test_the_corpus_has_its_workflows() -> None:
    assert len(WORKFLOWS) >= 8 and "expected" not in WORKFLOWS


@pytest.mark.parametrize("directive", sorted(DIRECTIVES))
def test_every_directive_of_the_issue_is_used_by_a_workflow_the_readme_names(directive: str) -> None:
    readme = (CORPUS / "README.md").read_text()
    using = [n for n in WORKFLOWS if re.search(DIRECTIVES[directive], _sources(n), re.M)]
    assert using, directive
    assert any(f"`{n}`" in readme for n in using)


def test_the_scatter_gather_fans_out_as_a_looped_lane_group(migrated: dict[str, Migrated]) -> None:
    chain = ("trim", "kmers", "rank")
    rows = {r["source_id"]: r for r in migrated["kmer-scatter"].rows}
    # One group looped over the samples: each sample's three jobs are its lane (the same item), one task per rule.
    tasks = {rows[f"{rule}[sample={s}]"]["task"] for rule in chain for s in "abc"}
    (group,) = {t.rpartition(".")[0] for t in tasks}
    assert tasks == {f"{group}.{rule}" for rule in chain}
    assert {(rule, s): rows[f"{rule}[sample={s}]"]["item"] for rule in chain for s in "abc"} == \
        {(rule, s): i for rule in chain for i, s in enumerate("abc")}


# --- (a) the job graph ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", WORKFLOWS)
def test_the_report_lists_exactly_snakemakes_jobs(migrated: dict[str, Migrated], graphs: dict[str, Any],
                                                 name: str) -> None:
    theirs, _ = graphs[name]
    assert theirs.graph is not None, theirs.error
    rows = [r["source_id"] for r in migrated[name].rows if r["source_id"] not in STAGES]
    assert len(rows) == len(set(rows))  # one row per job
    assert set(rows) == theirs.graph.jobs


def _with_group_pods(theirs: snakemake_graph.Graph, rows: list[dict[str, Any]]) -> snakemake_graph.Graph:
    """Snakemake's graph plus the order a pod running a Snakemake group adds, as Snakemake's own group jobs do: its
    jobs one after the other (in the order the report lists them), none before every input of the pod is made,
    and what waits for one of them waits for the whole pod."""
    pods: dict[str, list[str]] = {}
    for row in rows:
        if row["task"].startswith("group-"):  # rule names are identifiers: a hyphen marks the frontend's own task
            pods.setdefault(row["task"], []).append(row["source_id"])
    edges = set(theirs.edges)
    for members in pods.values():
        inside = set(members)
        edges.update(zip(members, members[1:], strict=False))
        for up, down in theirs.edges:
            if down in inside and up not in inside:
                edges.update((up, m) for m in members)
            if up in inside and down not in inside:
                edges.update((m, down) for m in members)
    return snakemake_graph.Graph(theirs.jobs, frozenset(edges))


@pytest.mark.parametrize("name", WORKFLOWS)
def test_the_migrated_order_of_jobs_is_snakemakes(migrated: dict[str, Migrated], graphs: dict[str, Any],
                                                  name: str) -> None:
    theirs, mine = graphs[name]
    assert theirs.graph is not None and mine.graph is not None, (theirs.error, mine.messages)
    if mine.whole:  # one task runs the whole workflow with Snakemake: the order of its jobs is Snakemake's own
        assert mine.graph.jobs == theirs.graph.jobs and {"AM203", "AM205"} & set(mine.codes)
        return
    comparison = snakemake_graph.compare(theirs.graph, mine.graph)
    assert not (comparison.jobs_missing or comparison.jobs_extra or comparison.order_missing), comparison.summary()
    grouped = snakemake_graph.compare(_with_group_pods(theirs.graph, migrated[name].rows), mine.graph)
    assert grouped.equal, grouped.summary()
    assert grouped.reductions_equal


# --- (b) the outputs -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Runs:
    snakemake: Path  # the folder Snakemake ran in
    workspace: Path  # the migrated run's workspace volume
    runner: subprocess.CompletedProcess[str]


def _run_both(name: str, m: Migrated, root: Path, images: list[str]) -> Runs:
    smk = _copy(name, root / "snakemake")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAKEMAKE")}
    done = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", "--quiet"], cwd=smk, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    # The migrated run reads the raw inputs from the current folder (--inputs' default): another copy.
    here = _copy(name, root / "argo")
    run = root / "run" / name
    runner = subprocess.run([sys.executable, "-m", "migrator.cli", "run", "--local", str(m.manifest), "--workdir",
                             str(run), *images], cwd=here, env=ENV, capture_output=True, text=True, timeout=300)
    return Runs(smk, run / "volumes" / "workspace", runner)


def _wrapper_engines(m: Migrated) -> set[str]:
    return {r["engine"] for r in m.rows if r["status"] == "wrapped"}


def _runnable(m: Migrated) -> bool:
    engines = _wrapper_engines(m)
    if "snakemake-job" in engines and not (REPO / "backends" / "wrappers" / "snakemake_job.py").exists():
        return False
    return (CORPUS / m.folder.name / "data").is_dir() and m.folder.name not in NOT_RUN


@pytest.fixture(scope="module")
def runs(migrated: dict[str, Migrated], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Runs]:
    root = tmp_path_factory.mktemp("smk-runs")
    names = [n for n in WORKFLOWS if _runnable(migrated[n])]
    wrapped = any(_wrapper_engines(migrated[n]) for n in names)
    images = ["--image", f"{SNAKEMAKE_IMAGE}={prefix(SNAKEMAKE)}"] if wrapped else []
    with ThreadPoolExecutor(2) as pool:
        done = pool.map(lambda n: _run_both(n, migrated[n], root, images), names)
        return dict(zip(names, done, strict=True))


def test_every_workflow_with_data_is_run(migrated: dict[str, Migrated]) -> None:
    with_data = {n for n in WORKFLOWS if (CORPUS / n / "data").is_dir()} - NOT_RUN
    assert {n for n in with_data if _runnable(migrated[n])} == with_data


def _made(folder: Path, original: Path) -> list[str]:
    """The files Snakemake made: new in its folder, outside its own .snakemake/."""
    out = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and rel.parts[0] != ".snakemake" and not (original / rel).exists() \
                and path.name != BOOKKEEPING:
            out.append(rel.as_posix())
    return out


@pytest.mark.parametrize("name", [n for n in WORKFLOWS if (CORPUS / n / "data").is_dir() and n not in NOT_RUN])
def test_the_migrated_run_makes_snakemakes_files_byte_for_byte(runs: dict[str, Runs], name: str) -> None:
    r = runs[name]
    assert r.runner.returncode == 0, r.runner.stdout + r.runner.stderr
    made = _made(r.snakemake, CORPUS / name)
    assert made
    differ = []
    for rel in made:
        ours = r.workspace / rel
        theirs = (r.snakemake / rel).read_bytes()
        if not ours.is_file():
            differ.append(f"{rel}: missing")
        elif theirs.startswith(BENCHMARK_HEADER.encode()):  # timings: only the table's shape is comparable
            if ours.read_bytes().splitlines()[0] != theirs.splitlines()[0]:
                differ.append(f"{rel}: not a benchmark table")
        elif ours.read_bytes() != theirs:
            differ.append(f"{rel}: differs")
    assert differ == []


# --- (c) diagnostics -----------------------------------------------------------------------------------------------


def _rule_line(path: Path, rule: str) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if re.match(rf"(rule|checkpoint) {rule}:", line))


@pytest.mark.parametrize("name, file, rule, code, words", DIAGNOSTICS,
                         ids=[f"{d[0]}-{d[2]}-{d[3]}" for d in DIAGNOSTICS])
def test_a_directive_that_is_not_native_is_reported_at_its_rule(migrated: dict[str, Migrated], name: str,
                                                               file: str, rule: str, code: str, words: str) -> None:
    line = _rule_line(CORPUS / name / file, rule)
    (entry,) = migrated[name].report["files"]
    found = [d for d in entry["diagnostics"] if (d["code"], d["file"], d["line"]) == (code, file, line)]
    assert any(words in d["message"] for d in found), (line, entry["diagnostics"])


def test_the_corpus_reports_no_other_warnings(migrated: dict[str, Migrated]) -> None:
    expected = {(n, c) for n, _, _, c, _ in DIAGNOSTICS}
    counts: dict[tuple[str, str], int] = {}
    for name, m in migrated.items():
        (entry,) = m.report["files"]
        for d in entry["diagnostics"]:
            if d["severity"] != "info":
                counts[(name, d["code"])] = counts.get((name, d["code"]), 0) + 1
    assert set(counts) == expected
    assert sum(counts.values()) == len(DIAGNOSTICS)


# --- golden ----------------------------------------------------------------------------------------------------


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("name", WORKFLOWS)
def test_the_migration_is_the_reviewed_golden_output(migrated: dict[str, Migrated], name: str) -> None:
    out, expected = migrated[name].out, EXPECTED / name
    assert _files(out) == _files(expected)
    assert [f for f in _files(out) if (out / f).read_bytes() != (expected / f).read_bytes()] == []


@pytest.mark.parametrize("name", WORKFLOWS)
def test_the_golden_manifest_is_valid_argo(name: str) -> None:
    assert problems(EXPECTED / name / f"{name}.yaml") == []
