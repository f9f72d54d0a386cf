"""The snakemake-job wrapper (one Snakemake job in a pod) and the source bundle it shares with engine-in-pod.

The runs are real: a migrated Snakefile through ``argo-migrate run --local`` with the cached Snakemake 9.27.1
virtualenv standing for the image (the helpers of tests/test_snakemake_integrate.py, which also compares the files
made with Snakemake's own run); the unpacking program is run as the pod runs it (``python3 -c PROGRAM``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from backends.wrappers import WrapperOptions, engine_in_pod, snakemake_job
from backends.wrappers.catalogue import program
from migrator.ir import Wrapped
from tests.test_snakemake_integrate import migrate, run, step_log

UNPACK = program("unpack_sources.py")


def unpack(bundle: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", UNPACK, str(bundle), str(folder)], capture_output=True, text=True,
                          timeout=30)


def bundle(tmp_path: Path, files: dict[str, str]) -> Path:
    """A bundle as migrator/source_bundle.py writes it: flat keys, and the index mapping them to paths."""
    folder = tmp_path / "bundle"
    folder.mkdir()
    index = {}
    for n, (path, text) in enumerate(sorted(files.items())):
        (folder / f"k{n}").write_text(text)
        index[f"k{n}"] = path
    (folder / "argo-migrate-index.json").write_text(json.dumps(index))
    return folder


def test_the_bundle_is_laid_out_at_its_paths_and_files_already_there_are_kept(tmp_path: Path) -> None:
    source = bundle(tmp_path, {"Snakefile": "rule a: pass\n", "scripts/x.py": "print(1)\n",
                               "results/old.txt": "stale\n"})
    folder = tmp_path / "workspace"
    (folder / "results").mkdir(parents=True)
    (folder / "results" / "old.txt").write_text("made by a job\n")
    done = unpack(source, folder)
    assert done.returncode == 0, done.stderr
    assert (folder / "Snakefile").read_text() == "rule a: pass\n"
    assert (folder / "scripts" / "x.py").read_text() == "print(1)\n"
    assert (folder / "results" / "old.txt").read_text() == "made by a job\n"
    assert "2 source file(s)" in done.stderr
    assert sorted(p.name for p in folder.rglob(".argo-migrate-*")) == []  # nothing left aside


def test_a_bundle_entry_leaving_the_folder_is_refused(tmp_path: Path) -> None:
    done = unpack(bundle(tmp_path, {"../escape.txt": "x"}), tmp_path / "workspace")
    assert done.returncode == 1 and "not a plain relative path" in done.stderr
    assert not (tmp_path / "escape.txt").exists()


def test_a_folder_without_an_index_is_no_bundle(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = unpack(tmp_path / "empty", tmp_path / "workspace")
    assert done.returncode == 0 and not (tmp_path / "workspace").exists()


def test_the_template_mounts_the_sources_from_its_own_volume_and_names_the_configmap_option() -> None:
    options = WrapperOptions(dags_config_map="my-sources")
    main = snakemake_job.workflow_template(options)["spec"]["templates"][0]
    # On the template: a caller's templateRef brings the template's volumes (not the WorkflowTemplate's spec's).
    assert main["volumes"] == [{"name": "sources", "configMap": {"name": "{{inputs.parameters.sources}}"}}]
    defaults = {p["name"]: p.get("default") for p in main["inputs"]["parameters"]}
    assert defaults["sources"] == "my-sources" and defaults["image"] == snakemake_job.IMAGE
    assert main["script"]["source"] == program("snakemake_job.sh")


def test_the_frontends_actions_become_the_templates_parameters() -> None:
    options = WrapperOptions()
    job = Wrapped("snakemake-job", (("file", "workflow/Snakefile"), ("rule", "words"),
                                    ("target", "words:sample=a"), ("cores", "2"), ("sdm", "conda")))
    assert snakemake_job.arguments(job, options) == (
        ("file", "workflow/Snakefile"), ("rule", "words"), ("target", "words:sample=a"), ("cores", "2"),
        ("sdm", "conda"), ("sources", "argo-migrate-dags"))
    whole = Wrapped("engine-in-pod", (("engine", "snakemake"), ("file", "Snakefile"), ("targets", "all 'x y'"),
                                      ("configfiles", "config/a.yaml config/b.yaml"), ("config", "k=1 j=2")))
    assert engine_in_pod.arguments(whole, options) == (
        ("engine", "snakemake"), ("workflow", "Snakefile"),
        ("args", "all x y --configfiles config/a.yaml config/b.yaml --config k=1 j=2"),
        ("sources", "argo-migrate-dags"))


@pytest.fixture(scope="module")
def failed(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, object], Path]:
    tmp_path = tmp_path_factory.mktemp("failing")
    source, out, _ = migrate("failing", tmp_path)
    return run(source, out, tmp_path)


def test_a_failing_job_fails_its_step_with_snakemakes_status_and_nothing_after_it_runs(
        failed: tuple[int, dict[str, object], Path]) -> None:
    code, report, workdir = failed
    nodes: dict[str, dict[str, object]] = report["nodes"]  # type: ignore[assignment]
    assert (code, report["phase"]) == (1, "Failed")
    assert (nodes["check"]["phase"], nodes["check"]["exitCode"]) == ("Failed", 1)
    assert nodes["done"]["phase"] == "Omitted" and nodes["stage-out"]["phase"] == "Omitted"
    assert "check: the input is bad" in step_log(workdir, report, "check")
    # Snakemake removed the failed job's output, as it does in its own runs.
    workspace = workdir / "volumes" / "workspace"
    assert (workspace / "data" / "input.txt").exists() and not (workspace / "checked" / "input.txt").exists()
