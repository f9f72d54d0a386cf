"""The Snakemake command's options and side effects, on the 8-job workflow of ../shared/checks/lib/smk-case (written
for the issue's acceptance check, not by us) and on small Snakefiles written here: planning leaves the user's folder
as it was; `--storage artifacts` runs to the same bytes as Snakemake; targets, config and profiles reach Snakemake's
planner; the report lists the raw inputs to upload."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from migrator.cli import main


def cli(*args: str) -> int:
    return main(list(args))

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT.parent / "shared" / "checks" / "lib" / "smk-case"


def _copy(tmp_path: Path, name: str = "wf") -> Path:
    target = tmp_path / name
    shutil.copytree(CASE, target)
    return target


def _report(out: Path) -> dict:
    return json.loads((out / "migration-report.json").read_text())


def _jobs(out: Path) -> set[str]:
    return {t["source_id"] for w in _report(out)["workflows"] for t in w["tasks"]} - {"stage-in", "stage-out"}


def _snakemake(folder: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", "-q", *args], cwd=folder, check=True,
                   capture_output=True)


def test_planning_leaves_the_workflow_folder_as_it_was(tmp_path: Path) -> None:
    wf = _copy(tmp_path)
    before = sorted(p.relative_to(wf) for p in wf.rglob("*"))
    assert cli("snakemake", str(wf), "-o", str(tmp_path / "out"), "--quiet") == 0
    assert sorted(p.relative_to(wf) for p in wf.rglob("*")) == before  # no .snakemake/, no placeholders


def test_artifacts_storage_gives_snakemakes_bytes(tmp_path: Path) -> None:
    ref, ours = _copy(tmp_path, "ref"), _copy(tmp_path, "ours")
    _snakemake(ref)
    out = tmp_path / "out"
    assert cli("snakemake", str(ours), "-o", str(out), "--storage", "artifacts", "--quiet") == 0
    manifest = next(out.glob("*.yaml"))
    code = subprocess.run([sys.executable, "-m", "migrator.cli", "run", "--local", str(manifest), "--workdir",
                           str(tmp_path / "run"), "--quiet"], cwd=ours, capture_output=True, text=True)
    assert code.returncode == 0, code.stdout + code.stderr
    kept = tmp_path / "run" / "artifacts" / manifest.stem / "outputs"
    assert (kept / "target-0").read_bytes() == (ref / "results" / "summary.txt").read_bytes()
    # every job passed its files as artifacts: nothing was shared through a volume
    assert not (tmp_path / "run" / "volumes").exists()


def test_report_lists_the_raw_inputs_to_upload(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli("snakemake", str(_copy(tmp_path)), "-o", str(out), "--quiet") == 0
    (workflow,) = _report(out)["workflows"]
    assert workflow["inputs"] == ["data/a.txt", "data/b.txt", "data/c.txt"]


def test_target_and_config_reach_snakemakes_planner(tmp_path: Path) -> None:
    wf = tmp_path / "wf"
    wf.mkdir()
    (wf / "Snakefile").write_text(
        'rule all:\n    input: expand("out/{n}.txt", n=range(int(config.get("n", 2))))\n'
        'rule make:\n    output: "out/{n}.txt"\n    shell: "echo {wildcards.n} > {output}"\n')
    out = tmp_path / "out"
    assert cli("snakemake", str(wf), "-o", str(out), "--config", "n=4", "--quiet") == 0
    assert _jobs(out) == {"all", *(f"make[n={i}]" for i in range(4))}
    out2 = tmp_path / "out2"
    assert cli("snakemake", str(wf), "-o", str(out2), "--target", "out/7.txt", "--quiet") == 0
    assert _jobs(out2) == {"make[n=7]"}


def test_profile_threads_and_resources_become_requests(tmp_path: Path) -> None:
    wf = tmp_path / "wf"
    (wf / "workflow" / "profiles" / "default").mkdir(parents=True)
    (wf / "workflow" / "Snakefile").write_text('rule a:\n    output: "a.txt"\n    shell: "echo a > {output}"\n')
    (wf / "workflow" / "profiles" / "default" / "config.yaml").write_text(
        "set-threads:\n  a: 3\nset-resources:\n  a:\n    mem_mb: 1500\n")
    out = tmp_path / "out"
    assert cli("snakemake", str(wf), "-o", str(out), "--quiet") == 0
    text = next(out.glob("*.yaml")).read_text()
    assert "cpu: '3'" in text and "memory: 1500M" in text


def test_wrapped_jobs_need_the_volume_with_artifacts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wf = tmp_path / "wf"
    wf.mkdir()
    (wf / "Snakefile").write_text('rule a:\n    output: "a.txt"\n    run:\n        open(output[0], "w").write("a")\n')
    assert cli("snakemake", str(wf), "-o", str(tmp_path / "out"), "--storage", "artifacts", "--quiet") == 1
    assert "error AM208" in capsys.readouterr().err


GLOBBING = ('SAMPLES, = glob_wildcards("data/{sample}.txt")\nrule all:\n    input: expand("out/{s}.txt", s=SAMPLES)\n'
            'rule cp:\n    input: "data/{s}.txt"\n    output: "out/{s}.txt"\n    shell: "cp {input} {output}"\n')


def test_glob_wildcards_over_data_elsewhere_is_reported_and_stub_files_plan_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wf = tmp_path / "wf"
    wf.mkdir()
    (wf / "Snakefile").write_text(GLOBBING)
    assert cli("snakemake", str(wf), "-o", str(tmp_path / "out"), "--quiet") == 0
    assert "warning AM210: glob_wildcards('data/{sample}.txt') matched nothing" in capsys.readouterr().err
    listing = tmp_path / "cluster-files.txt"
    listing.write_text("data/x.txt\ndata/y.txt\n")
    out = tmp_path / "out2"
    assert cli("snakemake", str(wf), "-o", str(out), "--stub-files", str(listing), "--quiet") == 0
    assert "info AM209: glob_wildcards('data/{sample}.txt') matched 2 file(s)" in capsys.readouterr().err
    assert _jobs(out) == {"all", "cp[s=x]", "cp[s=y]"}
    assert sorted(p.name for p in wf.iterdir()) == ["Snakefile"]  # the placeholders and their folder are gone


@pytest.mark.parametrize(("profile", "expected"), [
    ("set-threads: [oops\n", "not valid YAML"),
    ("set-threads:\n  count: many\n", "set-threads: count: 'many' is not a number of threads"),
])
def test_a_broken_profile_is_the_users_error_not_ours(profile: str, expected: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "prof").mkdir()
    (tmp_path / "prof" / "config.yaml").write_text(profile)
    code = cli("snakemake", str(_copy(tmp_path)), "-o", str(tmp_path / "out"), "--profile", str(tmp_path / "prof"),
               "--quiet")
    err = capsys.readouterr().err
    assert code == 1 and "error AM200" in err and expected in err and "AM901" not in err


def test_a_missing_stub_listing_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli("snakemake", str(_copy(tmp_path)), "-o", str(tmp_path / "out"), "--stub-files",
               str(tmp_path / "nope.txt"), "--quiet")
    assert code == 1 and "--stub-files" in capsys.readouterr().err


def test_a_failing_shell_job_fails_the_run_and_leaves_no_output(tmp_path: Path) -> None:
    """As Snakemake: the job's status is the step's, its incomplete output is removed, nothing after it runs."""
    wf = tmp_path / "wf"
    wf.mkdir()
    (wf / "Snakefile").write_text(
        'rule all:\n    input: "b.txt"\nrule a:\n    output: "a.txt"\n    shell: "echo a > {output}; false"\n'
        'rule b:\n    input: "a.txt"\n    output: "b.txt"\n    shell: "cp {input} {output}"\n')
    out = tmp_path / "out"
    assert cli("snakemake", str(wf), "-o", str(out), "--quiet") == 0
    run = subprocess.run([sys.executable, "-m", "migrator.cli", "run", "--local", str(next(out.glob("*.yaml"))),
                          "--workdir", str(tmp_path / "run"), "--report", str(tmp_path / "run.json"), "--quiet"],
                         cwd=wf, capture_output=True, text=True)
    assert run.returncode == 1
    nodes = json.loads((tmp_path / "run.json").read_text())["nodes"]
    assert nodes["a"]["phase"] == "Failed"
    assert nodes.get("b", {}).get("phase") in (None, "Omitted")
    assert not (tmp_path / "run" / "volumes" / "workspace" / "a.txt").exists()
