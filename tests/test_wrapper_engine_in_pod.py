"""The engine-in-pod wrapper against real Snakemake and cwltool, through ``argo-migrate run --local``.

A caller workflow (``fixtures/wrappers/engine_in_pod/caller.yaml``) calls the WorkflowTemplate's ``main`` by
templateRef with its own ``workspace`` volume, a PVC the runner keeps in ``<run>/volumes/claim-work``; each
test puts a workflow's files there first, as a pipeline's earlier step would. The engines come from cached
virtualenvs standing for their images (``--image``). Nextflow is not run: see the wrapper's DOC.local.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from backends.argo.yaml_out import dump
from backends.wrappers import WrapperOptions
from backends.wrappers.engine_in_pod import IMAGES, workflow_template
from tests.engines.tools import CWLTOOL, REPO, SNAKEMAKE, alive, prefix, processes_in, run_local, stop_local

FIXTURES = Path(__file__).parent / "fixtures" / "wrappers" / "engine_in_pod"
CALLER = FIXTURES / "caller.yaml"
CLAIM = "claim-work"  # the caller's PVC `work`, as the runner lays it out


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("engine-in-pod") / "argo-migrate-engine-in-pod.yaml"
    path.write_text(dump(workflow_template(WrapperOptions())))
    return path


@pytest.fixture(scope="module")
def images() -> list[str]:
    options: list[str] = []
    for engine, env in (("snakemake", SNAKEMAKE), ("cwltool", CWLTOOL)):
        options += ["--image", f"{IMAGES[engine]}={prefix(env)}"]
    return options


def prepare(tmp_path: Path, engine: str) -> tuple[Path, Path]:
    """The run folder, and the volume inside it holding a copy of the engine's fixture workflow."""
    workdir = tmp_path / "run"
    volume = workdir / "volumes" / CLAIM
    shutil.copytree(FIXTURES / engine, volume)
    return workdir, volume


def options(template: Path, images: list[str], **params: str) -> list[str]:
    out = ["--templates", str(template), *images]
    for name, value in params.items():
        out += ["-p", f"{name}={value}"]
    return out


def log(workdir: Path) -> str:
    return (workdir / "nodes" / "engine" / "attempt-0" / "stderr.log").read_text(errors="replace")


def words(path: Path) -> int:
    return len(path.read_text().split())


def test_the_template_and_its_caller_lint_clean(template: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "migrator.cli", "lint", str(template), str(CALLER)],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0 and "0 errors, 0 warnings" in done.stdout, done.stdout + done.stderr


def test_snakemake_runs_the_workflow_and_its_results_are_the_artifact(
        template: Path, images: list[str], tmp_path: Path) -> None:
    workdir, volume = prepare(tmp_path, "snakemake")
    code, report = run_local(CALLER, workdir, *options(template, images, engine="snakemake"))
    node = report["nodes"]["engine"]
    assert (code, report["phase"], node["phase"], node["exitCode"]) == (0, "Succeeded", "Succeeded", 0), \
        log(workdir)
    command = json.loads((workdir / "nodes" / "engine" / "attempt-0" / "command.json").read_text())
    assert command["image"] == IMAGES["snakemake"]  # the image follows the engine
    outputs = Path(node["outputs"]["artifacts"]["outputs"])
    counts = {s: words(volume / "data" / f"{s}.txt") for s in ("a", "b")}
    assert {s: int((outputs / f"{s}.count").read_text()) for s in counts} == counts
    assert int((outputs / "summary.txt").read_text()) == sum(counts.values())
    assert node["outputs"]["parameters"]["output-object"] == ""  # cwltool's alone


def test_cwltool_runs_the_workflow_and_reports_its_output_object(
        template: Path, images: list[str], tmp_path: Path) -> None:
    workdir, volume = prepare(tmp_path, "cwltool")
    params = {"engine": "cwltool", "workflow": "workflow.cwl", "inputs": "job.yml"}
    code, report = run_local(CALLER, workdir, *options(template, images, **params))
    node = report["nodes"]["engine"]
    assert (code, node["phase"], node["exitCode"]) == (0, "Succeeded", 0), log(workdir)
    outputs = Path(node["outputs"]["artifacts"]["outputs"])
    text = (volume / "data" / "words.txt").read_text()
    assert (outputs / "upper.txt").read_text() == text.upper()
    assert int((outputs / "count.txt").read_text()) == len(text.split())
    obj = json.loads(node["outputs"]["parameters"]["output-object"])
    assert sorted(obj) == ["count", "upper"]
    for name, file in (("upper", "upper.txt"), ("count", "count.txt")):
        data = (outputs / file).read_bytes()
        assert obj[name]["class"] == "File" and obj[name]["basename"] == file
        assert obj[name]["checksum"] == "sha1$" + hashlib.sha1(data).hexdigest()
        assert obj[name]["size"] == len(data)


@pytest.mark.parametrize("engine, params, said", [
    ("snakemake", {"args": "--config mode=fail"}, "count of b fails"),
    ("cwltool", {"workflow": "workflow.cwl", "inputs": "job-fail.yml"}, "count fails"),
])
def test_a_failing_rule_or_step_fails_the_step_with_the_engines_status(
        template: Path, images: list[str], tmp_path: Path, engine: str, params: dict[str, str],
        said: str) -> None:
    workdir, _ = prepare(tmp_path, engine)
    code, report = run_local(CALLER, workdir, *options(template, images, engine=engine, **params))
    node = report["nodes"]["engine"]
    assert (code, report["phase"], node["phase"]) == (1, "Failed", "Failed")
    # Both engines exit 1 when a job fails; the step's exit code is theirs (the program execs them).
    assert node["exitCode"] == 1 and node["message"] == "Error (exit code 1)"
    assert said in log(workdir)


@pytest.mark.parametrize("engine, params, marker", [
    ("snakemake", {"args": "--config mode=slow"}, "started-*"),
    ("cwltool", {"workflow": "workflow.cwl", "inputs": "job-slow.yml",
                 "args": "--tmp-outdir-prefix /workspace/jobs/"}, "jobs/*/started-count"),
])
def test_stopping_the_workflow_stops_the_engine_and_its_jobs(
        template: Path, images: list[str], tmp_path: Path, engine: str, params: dict[str, str],
        marker: str) -> None:
    workdir, volume = prepare(tmp_path, engine)
    seen: dict[int, str] = {}

    def started() -> bool:
        if not list(volume.glob(marker)):
            return False
        seen.update(processes_in(workdir))
        return True

    code, err = stop_local(CALLER, workdir, *options(template, images, engine=engine, **params),
                           started=started)
    assert code == 143, err
    assert not (workdir / "run.json").exists()  # a stopped run reports nothing, least of all Succeeded
    assert any(engine in command for command in seen.values()), seen
    # The program exec'd the engine: no shell of the step's script is left between the signal and the engine.
    assert not [c for c in seen.values() if "attempt-0/script" in c], seen
    job = int(next(volume.glob(marker)).read_text())  # the shell of the running job
    assert job in seen
    assert [pid for pid in seen if alive(pid)] == [] and processes_in(workdir) == {}
    assert "stopped 1 running step" in err
