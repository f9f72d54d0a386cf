"""The Airflow corpus's golden workflows run locally, where their commands exist on this host.

A workflow is runnable here when every image it uses is a plain base image whose tools the host has (bash, busybox,
alpine, python: ``python`` maps to the host interpreter, ``true``/``sh``/``bash`` exist) or an Airflow image that
the oracle virtualenvs stand in for (the wrapped tasks' WorkflowTemplates, written after the manifest, run with
them and the DAG files' ConfigMap folder the migration wrote), and no template needs a cluster (``resource``,
``http``, a Secret's credentials). Those must succeed with no Failed or Error node. Sensors are left out: they wait
for the world (a weekday, a file), so their outcome depends on when the test runs. Every other workflow still runs
(with a short deadline) and must end with a report whose failures have a stated reason, never an internal error.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from backends.argo.local.engine import Options, Runner, RunResult
from backends.argo.local.executors import Cluster
from backends.argo.local.model import load
from backends.argo.manifest_model import template_type
from tests.oracles.airflow_env import AIRFLOW2, AIRFLOW3, ensure

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "airflow" / "expected"
HOST_IMAGES = ("bash", "busybox", "alpine", "python")
WAITS_FOR_THE_WORLD = {"sensing"}  # corpus/airflow/sensors.py: a weekday sensor, a file sensor…
# Wrapped tasks whose DAG file imports a package no image here has (corpus/airflow/unsupported_fallback.py imports
# my_company.operators): Airflow cannot load the DAG, so the wrapped task fails, as it would in the real image.
NEEDS_A_PACKAGE = {"partly-native"}
# Workflows that Argo itself would not run to success as emitted: name → (node, words of its error). Empty now;
# the runner found two such errors in context-and-jinja's expressions (a map where a string was meant, and a
# jsonpath that fails on a missing key), since fixed in the frontend.
KNOWN_ARGO_ERRORS: dict[str, tuple[str, str]] = {}
# Workflows that fail some nodes on purpose (and still succeed as a whole): name → the nodes that must fail.
FAILS_BY_DESIGN: dict[str, set[str]] = {
    # corpus/airflow/mapped_groups.py: item 2 raises, and only its own iteration fails.
    "mapped-groups": {"per-item", "per-item(1)", "per-item(1).per-item-check"},
}


AIRFLOW_IMAGES = {"apache/airflow:3.3.2": AIRFLOW3, "apache/airflow:2.10.5": AIRFLOW2}


def _documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in YAML(typ="safe").load_all(path.read_text()) if isinstance(d, dict)]


def _document(path: Path) -> dict[str, Any]:
    """The manifest: the file's first document (the wrapper WorkflowTemplates it calls follow it)."""
    found = _documents(path)
    return found[0] if found else {}


def _cluster() -> Cluster:
    return Cluster(images={image: ensure(env).parent.parent for image, env in AIRFLOW_IMAGES.items()},
                   config_map_search=(CORPUS,))


def _runnable(path: Path) -> bool:
    document = _document(path)
    if (document.get("metadata") or {}).get("name") in WAITS_FOR_THE_WORLD | NEEDS_A_PACKAGE:
        return False
    templates = []
    for each in _documents(path):
        spec = each.get("spec") or {}
        templates += spec.get("workflowSpec", spec).get("templates") or []
    for template in templates:
        kind = template_type(template)
        if kind in ("resource", "http", "containerSet", "plugin", "data"):
            return False
        body = template.get(kind) if kind in ("container", "script") else None
        if body is not None:
            image = str(body.get("image", "")).rsplit("/", 1)[-1].split(":")[0]
            if str(body.get("image")) not in AIRFLOW_IMAGES and (image not in HOST_IMAGES or not body.get("command")):
                return False
            secrets = [e for e in body.get("env") or [] if isinstance(e.get("valueFrom"), dict)
                       and isinstance(e["valueFrom"].get("secretKeyRef"), dict)
                       and not e["valueFrom"]["secretKeyRef"].get("optional", False)]
            if secrets:  # credentials of an outside service (an Airflow API, a database): a cluster's job
                return False
    return True


def _parameters(path: Path) -> dict[str, str]:
    """Workflow parameters that only a cluster could read (a ConfigMap) get a test value."""
    spec = _document(path).get("spec") or {}
    spec = spec.get("workflowSpec", spec)
    return {str(p["name"]): "test-value" for p in (spec.get("arguments") or {}).get("parameters") or []
            if "value" not in p and p.get("valueFrom")}


def _run(path: Path, folder: Path, timeout: float) -> RunResult:
    return Runner(load(path, _parameters(path)), Options(workdir=folder, jobs=2, timeout=timeout,
                                                        fast_forward=True, cluster=_cluster())).run()


def test_corpus_workflows_run_locally(tmp_path: Path) -> None:
    paths = sorted(CORPUS.glob("*.yaml"))
    runnable = {p for p in paths if _runnable(p)}
    assert len(runnable) >= 8, "the corpus should keep workflows that run on a plain host"
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        futures = {p: pool.submit(_run, p, tmp_path / p.stem, 60.0 if p in runnable else 6.0) for p in paths}
        results = {p: f.result() for p, f in futures.items()}
    for path, result in results.items():
        nodes = {key: (node.phase, node.message) for key, node in result.nodes.items()}
        assert all("internal error" not in message for _, message in nodes.values()), (path.name, nodes)
        if path.stem in KNOWN_ARGO_ERRORS:
            node, words = KNOWN_ARGO_ERRORS[path.stem]
            assert nodes[node][0] == "Error" and words in nodes[node][1], (path.name, nodes[node])
        elif path in runnable:
            assert result.phase == "Succeeded", (path.name, result.message, nodes)
            expected = FAILS_BY_DESIGN.get(path.stem, set())
            assert {k for k, (phase, _) in nodes.items() if phase == "Failed"} == expected, (path.name, nodes)
            assert all(phase in ("Succeeded", "Skipped") for k, (phase, _) in nodes.items() if k not in expected), \
                (path.name, nodes)
            assert any(phase == "Succeeded" for phase, _ in nodes.values()), path.name
        else:
            failed = [(k, m) for k, (phase, m) in nodes.items() if phase in ("Failed", "Error")]
            assert all(message for _, message in failed), (path.name, failed)


def test_python_tasks_pass_values_through_the_mapped_return_path(tmp_path: Path) -> None:
    # Each script writes /tmp/argo-migrate/return_value; the path mapping gives every node its own copy.
    result = _run(CORPUS / "taskflow-etl.yaml", tmp_path, 60.0)
    assert result.phase == "Succeeded"
    assert result.nodes["transform"].parameters["return_value"] == '{"total": 1236.7}'
    assert result.nodes["load"].result == "Total order value is: 1236.70 USD"
