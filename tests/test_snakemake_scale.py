"""A generated scatter/gather of 2,000 jobs (999 samples through ``a`` then ``b``, one ``gather``, ``all``) through
the CLI as a user runs it: the manifest is written, under Argo's 1 MiB, lint-clean, the per-sample chain is one
looped lane group, and the report has one row per job Snakemake planned. Speed is measured by
``benchmarks/bench_snakemake.py``, not here."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from benchmarks.bench_snakemake import documents, scatter_gather, shape
from tests import snakemake_graph

REPO = Path(__file__).resolve().parent.parent
SAMPLES = 999  # 2 × 999 + gather + all = 2,000 jobs
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("smk-scale") / "scale"
    scatter_gather(folder, SAMPLES)
    out = folder.parent / "out"
    done = subprocess.run([sys.executable, "-m", "migrator.cli", "snakemake", "Snakefile", "-o", str(out), "--quiet"],
                          cwd=folder, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return folder, out


def test_the_manifest_is_under_argos_limit_and_lints_clean(migrated: tuple[Path, Path]) -> None:
    _, out = migrated
    manifest = out / "scale.yaml"
    info = shape(manifest)
    assert int(info["main_bytes"]) < MIB  # type: ignore[call-overload]
    done = subprocess.run([sys.executable, "-m", "migrator.cli", "lint", str(manifest)], capture_output=True,
                          text=True, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 errors" in done.stdout


def test_the_per_sample_chain_is_one_loop_over_the_samples(migrated: tuple[Path, Path]) -> None:
    _, out = migrated
    info = shape(out / "scale.yaml")
    assert [count for _, count in info["loops"]] == [SAMPLES]  # type: ignore[attr-defined]
    main = yaml.safe_load(documents(out / "scale.yaml")[0])
    loop = next(task for t in main["spec"]["templates"] if "dag" in t for task in t["dag"]["tasks"]
                if task.get("withItems"))
    # Each item names its sample: the paths are spelled from it in the templates, not repeated per item.
    assert loop["withItems"][:2] == [{"sample": "s00000"}, {"sample": "s00001"}]


def test_the_report_has_one_row_per_job_of_snakemakes_plan(migrated: tuple[Path, Path]) -> None:
    folder, out = migrated
    report = json.loads((out / "migration-report.json").read_text())
    rows = [row for wf in report["workflows"] for row in wf["tasks"]]
    jobs = [row["source_id"] for row in rows if row["source_id"] not in ("stage-in", "stage-out")]
    oracle = snakemake_graph.oracle(folder, "Snakefile")
    assert oracle.graph is not None, oracle.error
    assert len(jobs) == len(set(jobs)) == 2 * SAMPLES + 2 == 2000
    assert set(jobs) == set(oracle.graph.jobs)
    pattern = re.compile(r"^(a|b)\[sample=s\d{5}\]$")
    assert sum(1 for j in jobs if pattern.match(j)) == 2 * SAMPLES
    looped = [row for row in rows if row["source_id"].startswith(("a[", "b["))]
    assert sorted({row["item"] for row in looped}) == list(range(SAMPLES))


def test_the_order_of_jobs_is_snakemakes(migrated: tuple[Path, Path]) -> None:
    folder, _ = migrated
    oracle, ours = snakemake_graph.oracle(folder, "Snakefile"), snakemake_graph.ours(folder, "Snakefile")
    assert oracle.graph is not None and ours.graph is not None
    comparison = snakemake_graph.compare(oracle.graph, ours.graph)
    assert comparison.equal, comparison.summary()
