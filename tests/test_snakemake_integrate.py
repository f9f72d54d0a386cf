"""Migrated Snakefiles whose jobs run with Snakemake itself, through ``argo-migrate run --local``, against
Snakemake's own run of the same folder.

Each fixture under ``fixtures/snakemake/`` is copied, migrated (``argo-migrate snakemake``, the manifests and
the source bundle written outside the copy) and run with the source bundle as the ConfigMap
``argo-migrate-dags`` and the raw inputs read from the copy (``--inputs``); the cached Snakemake 9.27.1
virtualenv stands for the image. The oracle is ``snakemake --cores 2`` on another copy: every file the run leaves
in the workspace (sources, staged inputs, outputs; Snakemake's ``.snakemake`` bookkeeping aside) equals, byte for
byte, the file of that name in the oracle's folder, and every file Snakemake made is there.

- ``jobs``: ``script:`` and ``run:`` rules around a shell rule, a configfile read relative to the working
  directory: each wrapped job is one ``snakemake-job`` step (some in a looped lane with the shell rule);
- ``checkpoint``: the whole workflow in one ``engine-in-pod`` step between staging in and out, with a ``--config``
  value the engine must see.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from backends.wrappers.engine_in_pod import IMAGES
from tests.engines.tools import REPO, SNAKEMAKE, prefix, run_local

FIXTURES = Path(__file__).parent / "fixtures" / "snakemake"
CLI = [str(REPO / ".venv" / "bin" / "argo-migrate")]


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by its relative path, Snakemake's own ``.snakemake`` folder aside."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".snakemake" not in p.relative_to(folder).parts}


def oracle(name: str, tmp_path: Path, *args: str) -> Path:
    """The fixture run by Snakemake itself (``snakemake --cores 2``) in a copy of its folder."""
    folder = tmp_path / "oracle"
    shutil.copytree(FIXTURES / name, folder)
    done = subprocess.run([str(prefix(SNAKEMAKE) / "bin" / "snakemake"), "--cores", "2", "--nocolor", *args],
                          cwd=folder, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return folder


def migrate(name: str, tmp_path: Path, *options: str) -> tuple[Path, Path, dict[str, Any]]:
    """(the fixture's copy, the output folder, the migration report)."""
    source = tmp_path / "src"
    shutil.copytree(FIXTURES / name, source)
    out = tmp_path / "out"
    done = subprocess.run([*CLI, "snakemake", ".", "-o", str(out), *options], cwd=source, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return source, out, json.loads((out / "migration-report.json").read_text())


def run(source: Path, out: Path, tmp_path: Path) -> tuple[int, dict[str, Any], Path]:
    """``run --local`` of the migrated manifest: (exit status, run report, run folder)."""
    [manifest] = [p for p in out.glob("*.yaml")]
    workdir = tmp_path / "run"
    code, report = run_local(manifest, workdir, "--inputs", str(source),
                             "--config-map", f"argo-migrate-dags={out / 'argo-migrate-dags'}",
                             "--image", f"{IMAGES['snakemake']}={prefix(SNAKEMAKE)}")
    return code, report, workdir


def step_log(workdir: Path, report: dict[str, Any], name: str) -> str:
    folder = workdir / report["nodes"][name]["log"]
    return "".join(p.read_text(errors="replace") for p in sorted(folder.glob("*.log")))


def templates(manifest: Path) -> dict[str, Any]:
    """The calls of the migrated workflow's main DAG, by task name."""
    documents = [d for d in yaml.safe_load_all(manifest.read_text()) if d]
    main = next(t for t in documents[0]["spec"]["templates"] if t["name"] == "main")
    return {t["name"]: t for t in main["dag"]["tasks"]}


def same_files(workspace: Path, oracle_folder: Path, fixture: str) -> None:
    """Every file in the workspace is the oracle's, byte for byte, and every file Snakemake made is there (the
    fixture's data files the plan does not read are not staged in)."""
    made, theirs = files(workspace), files(oracle_folder)
    assert {p: theirs.get(p) for p in made} == made
    produced = set(theirs) - set(files(FIXTURES / fixture))
    assert produced and produced <= set(made), sorted(produced - set(made))


def test_script_and_run_jobs_run_one_snakemake_job_per_step_and_make_snakemakes_files(tmp_path: Path) -> None:
    expected = oracle("jobs", tmp_path)
    source, out, report = migrate("jobs", tmp_path)
    rows = [t for w in report["workflows"] for t in w["tasks"]]
    wrapped = sorted(r["source_id"] for r in rows if r["engine"] == "snakemake-job")
    assert wrapped == ["report", "words[sample=a]", "words[sample=b]"]
    shipped = json.loads((out / "argo-migrate-dags" / "argo-migrate-index.json").read_text()).values()
    assert sorted(shipped) == ["Snakefile", "config/config.yaml", "scripts/words.py"]  # the data is staged in
    code, result, workdir = run(source, out, tmp_path)
    assert (code, result["phase"]) == (0, "Succeeded"), json.dumps(result["nodes"], indent=1)[:3000]
    same_files(workdir / "volumes" / "workspace", expected, "jobs")
    kept = Path(result["nodes"]["stage-out"]["outputs"]["artifacts"]["target-0"])
    assert kept.read_bytes() == (expected / "results" / "report.txt").read_bytes()


def test_a_checkpoint_runs_the_whole_workflow_in_one_engine_step_with_its_config_and_makes_snakemakes_files(
        tmp_path: Path) -> None:
    expected = oracle("checkpoint", tmp_path, "--config", "lines_per_part=3")
    source, out, _ = migrate("checkpoint", tmp_path, "--config", "lines_per_part=3")
    call = templates(next(out.glob("*.yaml")))["snakemake"]
    assert call["templateRef"]["name"] == "argo-migrate-engine-in-pod"
    args = {p["name"]: p["value"] for p in call["arguments"]["parameters"]}
    assert (args["workflow"], args["args"]) == ("Snakefile", "--config lines_per_part=3")
    code, result, workdir = run(source, out, tmp_path)
    assert (code, result["phase"]) == (0, "Succeeded"), step_log(workdir, result, "snakemake")
    same_files(workdir / "volumes" / "workspace", expected, "checkpoint")
    # 7 lines, 3 a part: the config reached the engine (the Snakefile's default, 2, would make 4 parts).
    assert sorted(p.name for p in (expected / "counts").iterdir()) == ["part0.n", "part1.n", "part2.n"]
