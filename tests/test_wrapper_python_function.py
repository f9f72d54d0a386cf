"""The python-function wrapper with a real uv, through ``argo-migrate run --local``.

uv comes from a cached virtualenv standing for the uv image (``--image``; the image's ENV puts uv's cache
under ``.cache/engines/uv/cache``); the script's dependency is installed from PyPI by uv itself, as in the
pod.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from backends.argo.yaml_out import dump
from backends.wrappers import WrapperOptions
from backends.wrappers.python_function import workflow_template
from tests.engines.tools import REPO, UV, alive, processes_in, run_local, stop_local, uv_image

SCRIPT = Path(__file__).parent / "fixtures" / "wrappers" / "python_function" / "versions.py"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("python-function") / "argo-migrate-python-function.yaml"
    path.write_text(dump(workflow_template(WrapperOptions())))
    return path


@pytest.fixture(scope="module")
def image() -> list[str]:
    return ["--image", f"{WrapperOptions().uv_image}={uv_image()}"]


def options(image: list[str], **params: str) -> list[str]:
    out = [*image, "-p", f"source={SCRIPT.read_text()}"]
    for name, value in params.items():
        out += ["-p", f"{name}={value}"]
    return out


def stderr(workdir: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in workdir.glob("nodes/*/attempt-0/stderr.log"))


def pep440_key(version: str) -> tuple[tuple[int, ...], int, int]:
    """PEP 440 order of plain releases and release candidates: 1.10rc1 < 1.10, 1.9 < 1.10."""
    m = re.fullmatch(r"(\d+(?:\.\d+)*)(?:rc(\d+))?", version)
    assert m, version
    release = tuple(int(p) for p in m.group(1).split("."))
    release = release + (0,) * (4 - len(release))
    return (release, 0 if m.group(2) else 1, int(m.group(2) or 0))


def test_the_template_lints_clean(template: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "migrator.cli", "lint", str(template)], capture_output=True,
                          text=True, cwd=REPO)
    assert done.returncode == 0 and "0 errors, 0 warnings" in done.stdout, done.stdout + done.stderr


def test_the_result_comes_from_the_function_with_its_dependency_from_pypi(
        template: Path, image: list[str], tmp_path: Path) -> None:
    versions = ["1.10", "1.9", "1.2.3", "1.10rc1", "0.9"]
    code, report = run_local(template, tmp_path / "run",
                             *options(image, kwargs=json.dumps({"versions": versions})))
    node = report["entrypoint"]
    assert (code, node["phase"], node["exitCode"]) == (0, "Succeeded", 0), stderr(tmp_path / "run")
    result = json.loads(node["outputs"]["parameters"]["result"])
    assert result["sorted"] == sorted(versions, key=pep440_key)
    pinned = re.search(r'"packaging==([^"]+)"', SCRIPT.read_text())
    assert pinned and result["packaging"] == pinned.group(1)
    # uv built the script's environment (in its cache) from the metadata block; the script's own __main__
    # block, which would exit, did not run.
    assert Path(result["from"]).is_relative_to(UV.home / "cache")
    assert node["outputs"]["parameters"]["skipped"] == "false"


def test_an_exception_fails_the_step(template: Path, image: list[str], tmp_path: Path) -> None:
    kwargs = json.dumps({"reason": "no such version"})
    code, report = run_local(template, tmp_path / "run", *options(image, function="fail", kwargs=kwargs))
    node = report["entrypoint"]
    assert (code, node["phase"], node["exitCode"]) == (1, "Failed", 1)
    assert "ValueError: no such version" in stderr(tmp_path / "run")
    assert node["outputs"]["parameters"]["result"] == ""


@pytest.mark.parametrize("status, phase, skipped", [(99, "Succeeded", "true"), (98, "Failed", "false")])
def test_the_skip_exit_code_skips_and_any_other_status_is_mirrored(
        template: Path, image: list[str], tmp_path: Path, status: int, phase: str, skipped: str) -> None:
    code, report = run_local(template, tmp_path / "run", *options(
        image, function="skip", kwargs=json.dumps({"code": status}), **{"skip-on-exit-code": "99"}))
    node = report["entrypoint"]
    assert (node["phase"], node["outputs"]["parameters"]["skipped"]) == (phase, skipped)
    assert node["exitCode"] == (0 if skipped == "true" else status)
    assert code == (0 if phase == "Succeeded" else 1)


def test_stopping_the_workflow_ends_the_function(template: Path, image: list[str], tmp_path: Path) -> None:
    workdir, marker = tmp_path / "run", tmp_path / "started"
    seen: dict[int, str] = {}

    def started() -> bool:
        if not marker.exists() or not marker.read_text():
            return False
        seen.update(processes_in(workdir))
        return True

    code, err = stop_local(template, workdir, *options(
        image, function="wait", kwargs=json.dumps({"marker": str(marker), "seconds": 120})), started=started)
    assert code == 143, err
    assert not (workdir / "run.json").exists()
    function = int(marker.read_text())
    assert function in seen and any("uv run --script" in c for c in seen.values()), seen
    assert [pid for pid in seen if alive(pid)] == [] and processes_in(workdir) == {}
