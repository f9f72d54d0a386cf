"""Resources, queues and GPU tolerations: Airflow DAG files written here, migrated through the CLI, asserted on
the YAML (and accepted by ``argo-migrate lint``)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from migrator.cli import main
from migrator.ir import Resources
from migrator.pods import is_quantity, parse_default_resources, with_defaults

QUEUE_LABEL = "kueue.x-k8s.io/queue-name"

PODS = """\
from airflow.sdk import DAG
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator


def compute():
    return 42


with DAG(dag_id="pods", schedule=None):
    train = KubernetesPodOperator(
        task_id="train", image="ghcr.io/example/trainer:1", cmds=["python", "-m", "trainer"],
        container_resources={
            "requests": {"cpu": "500m", "memory": "1Gi", "ephemeral-storage": "2Gi", "nvidia.com/gpu": 1},
            "limits": {"memory": "2Gi", "ephemeral-storage": "4Gi", "nvidia.com/gpu": 1},
        },
    )
    report = BashOperator(task_id="report", bash_command="echo done")
    total = PythonOperator(task_id="total", python_callable=compute)
    train >> report >> total
"""

LIMITS_ONLY = """\
from airflow.sdk import DAG
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
with DAG(dag_id="limits", schedule=None):
    KubernetesPodOperator(task_id="k", image="alpine", cmds=["true"],
                          container_resources={"limits": {"cpu": "2", "memory": "4Gi"}})
"""

EXECUTOR_CONFIG = """\
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator
with DAG(dag_id="executor", schedule=None):
    BashOperator(task_id="b", bash_command="echo hi", executor_config={
        "KubernetesExecutor": {"request_cpu": "250m", "request_memory": "256Mi", "limit_memory": "1Gi",
                               "limit_gpu": 1}})
"""


def migrate(tmp_path: Path, source: str, *options: str, name: str) -> tuple[int, dict[str, Any], Path]:
    dag = tmp_path / "dags" / f"{name}.py"
    dag.parent.mkdir(parents=True, exist_ok=True)
    dag.write_text(textwrap.dedent(source))
    out = tmp_path / "out"
    code = main(["airflow", str(dag), "-o", str(out), "--quiet", *options])
    manifest = out / f"{name}.yaml"
    return code, (yaml.safe_load(manifest.read_text()) if manifest.exists() else {}), manifest


def templates(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    spec = document["spec"].get("workflowSpec", document["spec"])
    return {t["name"]: t for t in spec["templates"]}


def pod_of(template: dict[str, Any]) -> dict[str, Any]:
    return template.get("container") or template.get("script") or {}


def test_kubernetes_pod_requests_and_limits_are_kept_apart(tmp_path: Path) -> None:
    code, document, manifest = migrate(tmp_path, PODS, name="pods")
    assert code == 0
    found = templates(document)
    assert pod_of(found["train"])["resources"] == {
        "requests": {"cpu": "500m", "memory": "1Gi", "ephemeral-storage": "2Gi", "nvidia.com/gpu": "1"},
        "limits": {"memory": "2Gi", "ephemeral-storage": "4Gi", "nvidia.com/gpu": "1"},
    }
    # Without options nothing else is added: no resources where the source gives none, no labels, no tolerations.
    assert "resources" not in pod_of(found["report"]) and "resources" not in pod_of(found["total"])
    assert not any("metadata" in t or "tolerations" in t for t in found.values())
    assert main(["lint", str(manifest)]) == 0


def test_limits_alone_give_no_requests(tmp_path: Path) -> None:
    # Kubernetes takes a limit as the request when none is given: writing requests would change nothing.
    code, document, _ = migrate(tmp_path, LIMITS_ONLY, name="limits")
    assert code == 0
    assert pod_of(templates(document)["k"])["resources"] == {"limits": {"cpu": "2", "memory": "4Gi"}}


def test_executor_config_sizes_the_task_pod(tmp_path: Path) -> None:
    code, document, manifest = migrate(tmp_path, EXECUTOR_CONFIG, "--gpu-toleration", name="executor")
    assert code == 0
    template = templates(document)["b"]
    assert pod_of(template)["resources"] == {
        "requests": {"cpu": "250m", "memory": "256Mi", "nvidia.com/gpu": "1"},
        "limits": {"memory": "1Gi", "nvidia.com/gpu": "1"},
    }
    assert template["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert main(["lint", str(manifest)]) == 0


def test_default_resources_fill_in_what_the_source_leaves_out(tmp_path: Path) -> None:
    code, document, manifest = migrate(tmp_path, PODS, "--default-resources",
                                       "cpu=250m,memory=512Mi,ephemeral-storage=1Gi", name="pods")
    assert code == 0
    found = templates(document)
    defaults = {"requests": {"cpu": "250m", "memory": "512Mi", "ephemeral-storage": "1Gi"}}
    assert pod_of(found["report"])["resources"] == defaults  # a container (BashOperator)
    assert pod_of(found["total"])["resources"] == defaults  # a script (PythonOperator)
    # The task's own values win, field by field.
    assert pod_of(found["train"])["resources"]["requests"] == {
        "cpu": "500m", "memory": "1Gi", "ephemeral-storage": "2Gi", "nvidia.com/gpu": "1"}
    assert "resources" not in found["main"]
    assert main(["lint", str(manifest)]) == 0


def test_default_request_never_exceeds_a_limit_the_task_gives(tmp_path: Path) -> None:
    code, document, _ = migrate(tmp_path, LIMITS_ONLY, "--default-resources", "cpu=8,memory=64Gi,ephemeral-storage=1Gi",
                                name="limits")
    assert code == 0
    assert pod_of(templates(document)["k"])["resources"] == {
        "requests": {"ephemeral-storage": "1Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}}


def test_default_gpu_goes_to_requests_and_limits(tmp_path: Path) -> None:
    code, document, manifest = migrate(tmp_path, PODS, "--default-resources", "cpu=1,gpu=2",
                                       "--gpu-toleration=example.com/accelerator", name="pods")
    assert code == 0
    found = templates(document)
    report = pod_of(found["report"])["resources"]
    assert report["requests"]["nvidia.com/gpu"] == "2" and report["limits"] == {"nvidia.com/gpu": "2"}
    for name in ("train", "report", "total"):
        assert found[name]["tolerations"] == [
            {"key": "example.com/accelerator", "operator": "Exists", "effect": "NoSchedule"}]
    assert pod_of(found["train"])["resources"]["limits"]["nvidia.com/gpu"] == "1"  # its own count wins
    assert main(["lint", str(manifest)]) == 0


def test_gpu_toleration_only_where_a_gpu_is_requested(tmp_path: Path) -> None:
    code, document, manifest = migrate(tmp_path, PODS, "--gpu-toleration", name="pods")
    assert code == 0
    found = templates(document)
    assert found["train"]["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert "tolerations" not in found["report"] and "tolerations" not in found["total"]
    assert main(["lint", str(manifest)]) == 0


def test_queue_labels_every_pod_template_and_nothing_else(tmp_path: Path) -> None:
    code, document, manifest = migrate(tmp_path, PODS, "--queue", "team-a", name="pods")
    assert code == 0
    for name, template in templates(document).items():
        if "dag" in template or "steps" in template:
            assert "metadata" not in template, name
        else:
            assert template["metadata"]["labels"] == {QUEUE_LABEL: "team-a"}, name
    assert main(["lint", str(manifest)]) == 0


@pytest.mark.parametrize("options", [
    ["--default-resources", "cpu=lots"],
    ["--default-resources", "cpu=1,memory=2GB"],
    ["--default-resources", "cpu=-1"],
    ["--default-resources", "disk=1Gi"],
    ["--default-resources", "cpu"],
    ["--default-resources", "cpu=1,cpu=2"],
    ["--default-resources", "gpu=0.5"],
    ["--default-resources", ""],
    ["--queue", "Team_A"],
    ["--queue", "a" * 64],
    ["--queue=-a"],
    ["--gpu-toleration=bad key"],
])
def test_bad_option_values_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            options: list[str]) -> None:
    code, _, _ = migrate(tmp_path, PODS, *options, name="pods")
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("argo-migrate: error: ") and "\n" not in err
    assert not (tmp_path / "out").exists()  # refused before anything is written


def test_gpu_toleration_before_the_paths_is_not_taken_as_a_key(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a.py", tmp_path / "b.py"
    first.write_text(LIMITS_ONLY)
    second.write_text(LIMITS_ONLY)
    assert main(["airflow", "--gpu-toleration", str(first), str(second), "-o", str(tmp_path / "out")]) == 2
    assert "is a path" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["1", "500m", "0.5", ".5", "1.", "512Mi", "1Gi", "2k", "1e3", "1E", "100n"])
def test_kubernetes_quantities(value: str) -> None:
    assert is_quantity(value)


@pytest.mark.parametrize("value", ["", "lots", "2GB", "1gi", "-1", "+1", "1.2.3", "Gi", "1e", "1 Gi", "1Mi "])
def test_not_kubernetes_quantities(value: str) -> None:
    assert not is_quantity(value)


def test_default_resources_parse() -> None:
    assert parse_default_resources("cpu=1, memory=2Gi,ephemeral-storage=1Gi,gpu=1") == Resources(
        cpu="1", memory="2Gi", ephemeral_storage="1Gi", gpu=1)


def test_with_defaults_fills_field_by_field() -> None:
    defaults = Resources(cpu="1", memory="1Gi", gpu=1)
    assert with_defaults(None, defaults) == defaults
    assert with_defaults(Resources(cpu="2"), None) == Resources(cpu="2")
    assert with_defaults(Resources(cpu="2", memory_limit="512Mi"), defaults) == Resources(
        cpu="2", memory=None, gpu=1, memory_limit="512Mi")


def test_what_resources_cannot_hold_is_reported_not_wrapped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = """\
    from airflow.sdk import DAG
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from airflow.providers.standard.operators.bash import BashOperator
    from kubernetes.client import models as k8s
    with DAG(dag_id="notes", schedule=None):
        KubernetesPodOperator(task_id="k", image="alpine", cmds=["true"],
                              container_resources={"limits": {"amd.com/gpu": 1, "memory": "1Gi"}})
        BashOperator(task_id="b", bash_command="true", executor_config={"pod_override": k8s.V1Pod()})
    """
    code, document, _ = migrate(tmp_path, source, "--format", "json", name="notes")
    assert code == 0
    assert pod_of(templates(document)["k"])["resources"] == {"limits": {"memory": "1Gi"}}
    err = capsys.readouterr().err
    assert "resource 'amd.com/gpu' is not translated" in err
    assert "argument 'executor_config' is not translated" in err
    report = yaml.safe_load((tmp_path / "out" / "migration-report.json").read_text())
    assert {t["status"] for t in report["workflows"][0]["tasks"]} == {"native"}
