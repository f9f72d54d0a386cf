"""The bundled corpus (corpus/airflow): every DAG file migrates to exactly the reviewed golden YAML and report.

Regenerate after an intended change with ``ARGO_MIGRATE_UPDATE_GOLDEN=1 make test-fast`` and review the diff.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from migrator.cli import main
from tests.manifests import problems

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path("corpus/airflow")
EXPECTED = ROOT / CORPUS / "expected"

# The constructs issue #2 names for the first Airflow frontend; each must be exercised by some corpus file.
REQUIRED = {
    "with-dag-as", "with-dag-no-as", "dag-assignment", "dag-kwarg", "dag-decorator", "airflow2-imports",
    "airflow3-imports", "airflow-sdk-imports", "bash-operator", "python-operator", "task-decorator",
    "empty-operator", "dummy-operator", "rshift", "lshift", "list-both-sides", "rshift-chain", "set-upstream",
    "set-downstream", "chain", "cron-schedule", "preset-schedule", "schedule-interval", "default-args-retries",
    "retry-delay", "unknown-operator-wrapped",
}


def constructs() -> dict[str, set[str]]:
    found = {}
    for path in sorted((ROOT / CORPUS).glob("*.py")):
        match = re.search(r"^# constructs: (.+)$", path.read_text(), re.M)
        found[path.name] = {c.strip() for c in match.group(1).split(",")} if match else set()
    return found


@pytest.fixture(scope="module")
def output(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    cwd = os.getcwd()
    os.chdir(ROOT)  # the report records paths as given, so run from the repository root like `make demo`
    try:
        code = main(["airflow", str(CORPUS), "-o", str(out), "--quiet"])
    finally:
        os.chdir(cwd)
    assert code == 0
    if os.environ.get("ARGO_MIGRATE_UPDATE_GOLDEN"):
        shutil.rmtree(EXPECTED, ignore_errors=True)
        shutil.copytree(out, EXPECTED)
    return out


def test_every_corpus_file_declares_its_constructs() -> None:
    assert all(constructs().values()), [name for name, c in constructs().items() if not c]


def test_corpus_covers_every_required_construct() -> None:
    covered = set().union(*constructs().values())
    assert REQUIRED - covered == set()


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_output_files_are_exactly_the_golden_files(output: Path) -> None:
    assert _files(output) == _files(EXPECTED)


@pytest.mark.parametrize("name", _files(EXPECTED) if EXPECTED.exists() else [])
def test_output_matches_golden(output: Path, name: str) -> None:
    assert (output / name).read_text() == (EXPECTED / name).read_text()


@pytest.mark.parametrize("name", sorted(p.name for p in EXPECTED.glob("*.yaml")) if EXPECTED.exists() else [])
def test_golden_manifest_is_valid_argo(name: str) -> None:
    assert problems(EXPECTED / name) == []
