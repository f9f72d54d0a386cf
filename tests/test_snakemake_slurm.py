"""A Snakefile migrated with ``--slurm-host``, run with ``argo-migrate run --local`` against a real SLURM 22.05
reached over a real sshd on 127.0.0.1 (tests/engines/slurm.py): the whole workflow runs as one SLURM job on the
"login node" (this machine), Snakemake inside it.

The migration points at the test cluster (port, user, remote folder) and gives ``--slurm-setup`` a line putting the
cached Snakemake 9.27.1 virtualenv on the job's PATH, as ``module load snakemake`` would on a real cluster. The run
gets the Secret ``slurm-ssh`` (the cluster's generated key and pinned host key), the source bundle as the ConfigMap
``argo-migrate-dags`` and the raw inputs from the fixture's copy. The oracle is ``snakemake --cores 2`` on another
copy: every file the run leaves in the workspace equals the oracle's byte for byte, and every file Snakemake made
is there; what SLURM says of the job (its state, its log) is read from the cluster itself.

- ``jobs`` with ``--strategy integrate``: ``script:`` and ``run:`` rules and a configfile read relative to the
  working directory, so the sources must be laid out on the login node;
- ``checkpoint``: integrated because of the checkpoint, with a ``--config`` value the job's Snakemake must see;
- ``failing`` with ``--strategy integrate``: Snakemake fails inside the job, so the step fails with its exit code
  and nothing is kept.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from backends.wrappers.slurm_job import SECRET
from tests.engines.slurm import Slurm, module_fixture
from tests.engines.tools import REPO, SNAKEMAKE, prefix, run_local
from tests.test_snakemake_integrate import FIXTURES, oracle, same_files, templates

slurm = module_fixture()

CLI = [str(REPO / ".venv" / "bin" / "argo-migrate")]


def migrate(cluster: Slurm, name: str, tmp_path: Path, *options: str) -> tuple[Path, Path]:
    """(the fixture's copy, the output folder) of ``argo-migrate snakemake --slurm-host …``."""
    source = tmp_path / "src"
    shutil.copytree(FIXTURES / name, source)
    out = tmp_path / "out"
    setup = f"export PATH={prefix(SNAKEMAKE) / 'bin'}:$PATH"
    done = subprocess.run([*CLI, "snakemake", ".", "-o", str(out), "--slurm-host", cluster.host,
                           "--slurm-port", str(cluster.ssh_port), "--slurm-user", cluster.user,
                           "--slurm-remote-dir", str(cluster.root / "home"), "--slurm-partition", "debug",
                           "--slurm-setup", setup, *options],
                          cwd=source, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return source, out


def run(cluster: Slurm, source: Path, out: Path, tmp_path: Path) -> tuple[int, dict[str, Any], Path]:
    [manifest] = list(out.glob("*.yaml"))
    workdir = tmp_path / "run"
    code, report = run_local(manifest, workdir, "--inputs", str(source), "--timeout", "150",
                             "--config-map", f"argo-migrate-dags={out / 'argo-migrate-dags'}",
                             "--secret", f"{SECRET}={cluster.secret_dir}", timeout=180)
    return code, report, workdir


def step_log(workdir: Path, report: dict[str, Any]) -> str:
    [key] = [k for k in report["nodes"] if k.startswith("snakemake.") and k.endswith(".run")] or ["snakemake"]
    folder = workdir / report["nodes"][key]["log"]
    return "".join(p.read_text(errors="replace") for p in sorted(folder.glob("*.log")))


def the_job(report: dict[str, Any]) -> dict[str, str]:
    """The output parameters of the run step: job-id, job-state, exit-code."""
    [node] = [n for k, n in report["nodes"].items() if k.startswith("snakemake") and k.endswith(".run")]
    return node["outputs"]["parameters"]  # type: ignore[no-any-return]


def job_log(cluster: Slurm, job_id: str) -> str:
    """The SLURM job's own output file in its work folder on the login node."""
    [log] = list((cluster.root / "home").glob(f"*/.argo-migrate-slurm-{job_id}.log"))
    return log.read_text()


def test_script_and_run_rules_integrated_run_in_one_slurm_job_and_make_snakemakes_files(
        slurm: Slurm, tmp_path: Path) -> None:
    expected = oracle("jobs", tmp_path)
    source, out = migrate(slurm, "jobs", tmp_path, "--strategy", "integrate")
    call = templates(next(out.glob("*.yaml")))["snakemake"]
    assert call["templateRef"] == {"name": "argo-migrate-slurm-job", "template": "workspace"}
    report_rows = json.loads((out / "migration-report.json").read_text())["workflows"][0]["tasks"]
    assert {r["engine"] for r in report_rows if r["status"] == "wrapped"} == {"slurm-job"}
    code, result, workdir = run(slurm, source, out, tmp_path)
    assert (code, result["phase"]) == (0, "Succeeded"), step_log(workdir, result)
    same_files(workdir / "volumes" / "workspace", expected, "jobs")
    kept = Path(result["nodes"]["stage-out"]["outputs"]["artifacts"]["target-0"])
    assert kept.read_bytes() == (expected / "results" / "report.txt").read_bytes()
    job = the_job(result)
    assert (job["job-state"], job["exit-code"]) == ("COMPLETED", "0")
    # Snakemake ran inside that job: its own summary is in the job's output file.
    assert re.search(r"^(\d+) of \1 steps \(100%\) done$", job_log(slurm, job["job-id"]), re.M)
    # The wrapper's own files stay on the login node.
    assert not [p for p in (workdir / "volumes" / "workspace").rglob("*") if "argo-migrate" in p.name]


def test_a_checkpoint_runs_in_one_slurm_job_with_its_config_and_makes_snakemakes_files(
        slurm: Slurm, tmp_path: Path) -> None:
    expected = oracle("checkpoint", tmp_path, "--config", "lines_per_part=3")
    source, out = migrate(slurm, "checkpoint", tmp_path, "--config", "lines_per_part=3")
    code, result, workdir = run(slurm, source, out, tmp_path)
    assert (code, result["phase"]) == (0, "Succeeded"), step_log(workdir, result)
    same_files(workdir / "volumes" / "workspace", expected, "checkpoint")
    # 7 lines, 3 a part: the config reached the job's Snakemake (the Snakefile's default, 2, would make 4 parts).
    assert sorted(p.name for p in (workdir / "volumes" / "workspace" / "counts").iterdir()) == [
        "part0.n", "part1.n", "part2.n"]
    assert the_job(result)["job-state"] == "COMPLETED"


def test_snakemake_failing_in_the_slurm_job_fails_the_step_and_keeps_nothing(slurm: Slurm, tmp_path: Path) -> None:
    source, out = migrate(slurm, "failing", tmp_path, "--strategy", "integrate")
    code, result, workdir = run(slurm, source, out, tmp_path)
    assert (code, result["phase"]) == (1, "Failed")
    job = the_job(result)
    assert (job["job-state"], job["exit-code"]) == ("FAILED", "1"), step_log(workdir, result)
    assert "check: the input is bad" in job_log(slurm, job["job-id"])
    assert result["nodes"]["stage-out"]["phase"] in ("Omitted", "Skipped")
    # Snakemake removed the failed job's output, and the job after it never ran.
    workspace = workdir / "volumes" / "workspace"
    assert not (workspace / "checked" / "input.txt").exists() and not (workspace / "results").exists()
