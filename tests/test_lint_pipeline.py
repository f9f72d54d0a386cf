"""The pipeline lints every manifest before writing it: what it writes lints clean, and what lint rejects is an
error of ours (AM903), or AM401 for a workflow too large, and is not written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

import backends.argo.yaml_out as yaml_out
from backends.argo.lint import lint_paths
from migrator.cli import main

ROOT = Path(__file__).resolve().parent.parent

HELLO = """\
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
with DAG(dag_id="hello", schedule=None):
    a = BashOperator(task_id="a", bash_command="echo a")
    b = BashOperator(task_id="b", bash_command="echo b")
    a >> b
"""

HUGE = """\
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
with DAG(dag_id="huge", schedule=None):
    BashOperator(task_id="t", bash_command="echo %s")
""" % ("x" * 1_200_000)
WIDE = """\
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
with DAG(dag_id="wide", schedule=None):
    for i in range(201):
        BashOperator(task_id=f"t{i}", bash_command=f"echo {i}")
"""


def diagnostics_of(out: Path) -> list[dict]:
    report = json.loads((out / "migration-report.json").read_text())
    return [d for f in report["files"] for d in f["diagnostics"]]


def test_golden_manifests_lint_clean() -> None:
    diagnostics, checked = lint_paths([str(ROOT / "corpus" / "airflow" / "expected")])
    expected = ROOT / "corpus" / "airflow" / "expected"
    # argo-migrate-dags/ (the DAG files' ConfigMap, with its kustomization) is not a folder of manifests.
    assert checked == len([p for p in expected.iterdir() if p.is_file()])
    assert [str(d) for d in diagnostics if d.code != "AM404"] == []


def test_every_manifest_the_pipeline_writes_for_the_corpus_lints_clean(tmp_path: Path) -> None:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        assert main(["airflow", "corpus/airflow", "-o", str(tmp_path), "--quiet"]) == 0
    finally:
        os.chdir(cwd)
    written = sorted(tmp_path.glob("*.yaml"))
    assert written
    diagnostics, _ = lint_paths([str(p) for p in written])
    assert [str(d) for d in diagnostics] == []
    assert not [d for d in diagnostics_of(tmp_path) if d["code"] in ("AM903", "AM901")]


def test_a_manifest_lint_rejects_is_reported_as_our_bug_and_not_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = yaml_out.dump

    def broken(document: dict) -> str:  # a backend bug: a misspelt field
        document = json.loads(json.dumps(document))
        document["spec"]["templates"][0]["dag"]["tasks"][1]["dependecies"] = ["a"]
        return real(document)

    monkeypatch.setattr(yaml_out, "dump", broken)
    (tmp_path / "hello.py").write_text(HELLO)
    out = tmp_path / "out"
    assert main(["airflow", str(tmp_path / "hello.py"), "-o", str(out), "--quiet"]) == 1
    assert not (out / "hello.yaml").exists()
    found = [d for d in diagnostics_of(out) if d["code"] == "AM903"]
    assert len(found) == 1 and found[0]["severity"] == "error"
    assert "invalid output: unknown field 'dependecies' in DAGTask" in found[0]["message"]
    assert found[0]["line"] == 3  # the DAG in the source, not the manifest that was not written


def test_a_manifest_too_large_for_argo_is_reported_once_and_not_written(tmp_path: Path) -> None:
    """One task whose command alone is over Argo's 1 MiB object limit: nothing can split it."""
    (tmp_path / "huge.py").write_text(HUGE)
    out = tmp_path / "out"
    assert main(["airflow", str(tmp_path / "huge.py"), "-o", str(out), "--quiet"]) == 1
    assert not (out / "huge.yaml").exists()
    codes = [d["code"] for d in diagnostics_of(out)]
    assert codes.count("AM401") >= 1 and "AM903" not in codes
    messages = [d["message"] for d in diagnostics_of(out) if d["code"] == "AM401"]
    assert any("1 MiB" in m for m in messages) and any("not written" in m for m in messages)


def test_a_dag_wider_than_argo_allows_is_nested_not_refused(tmp_path: Path) -> None:
    (tmp_path / "wide.py").write_text(WIDE)
    out = tmp_path / "out"
    assert main(["airflow", str(tmp_path / "wide.py"), "-o", str(out), "--quiet"]) == 0
    document = next(yaml.safe_load_all((out / "wide.yaml").read_text()))
    dags = [t for t in document["spec"]["templates"] if "dag" in t]
    assert len(dags) >= 2 and all(len(t["dag"]["tasks"]) <= 200 for t in dags)
    assert sum(len(t["dag"]["tasks"]) for t in dags) == 201 + len(dags) - 1  # every task, plus one per nested DAG
    assert "AM401" not in [d["code"] for d in diagnostics_of(out)]
