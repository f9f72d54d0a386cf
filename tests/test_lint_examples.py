"""Lint over the 217 examples of Argo's documentation (``../shared/argo/examples``), every one accepted by Argo.

A lint error on any of them is a false positive. The few that use fields newer than Hera's models get a warning
(AM406) and nothing worse; the other warnings below are deliberate and explained.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections import defaultdict
from pathlib import Path

import pytest

from backends.argo.lint import lint_paths
from backends.argo.lint.newer_fields import HERA_MODELS_ARGO_VERSION, NEWER_FIELDS, REFERENCE_ARGO_VERSION
from migrator.diagnostics import Diagnostic, Severity
from tests.corpora import shared_dir

EXAMPLES = shared_dir() / "argo" / "examples"
EXAMPLE_COUNT = 217

# Fields of Argo 4.1 that Hera 7.1's models (generated from Argo 4.0.5) do not have: a warning each, not an error.
NEWER_THAN_HERA = {
    "pod-resources.yaml": "spec.podResources (pod-level resource requests, Argo 4.1)",
    "pod-resources-template-override.yaml": "spec.podResources and a template's podResources (Argo 4.1)",
    "resource-claims.yaml": "spec.resourceClaims (Kubernetes dynamic resource allocation, Argo 4.1)",
    "resource-claims-template-override.yaml": "spec.resourceClaims and a template's resourceClaims (Argo 4.1)",
    "workflow-level-executor-plugin.yaml": "spec.executorPlugins (Argo 4.1)",
}
# Warnings that are right although Argo accepts the manifest.
OTHER_WARNINGS = {
    # metadata.annotations is written twice; Kubernetes keeps the second, so the first is silently lost.
    "k8s-patch-json-workflow.yaml": "AM421",
    # {{workflow.parameters.appellation}} is not declared: the WorkflowEventBinding that submits the template
    # supplies it. Lint cannot know that, hence a warning for WorkflowTemplates, not an error.
    "workflow-event-binding_event-consumer-workflowtemplate.yaml": "AM418",
}
# Kubernetes objects that are not workflows (ConfigMap, PVC, ResourceQuota, WorkflowEventBinding): skipped (AM404).
NOT_WORKFLOWS = {
    "configmaps_simple-parameters-configmap.yaml", "testvolume.yaml", "workflow-count-resourcequota.yaml",
    "workflow-event-binding_event-consumer-workfloweventbinding.yaml",
    "workflow-event-binding_github-path-filter-workfloweventbinding.yaml",
}


@functools.cache
def linted() -> tuple[dict[str, list[Diagnostic]], int, float]:
    start = time.perf_counter()
    diagnostics, checked = lint_paths([str(EXAMPLES)])
    elapsed = time.perf_counter() - start
    by_file: dict[str, list[Diagnostic]] = defaultdict(list)
    for d in diagnostics:
        by_file[Path(d.path).name].append(d)
    return by_file, checked, elapsed


def example_names() -> list[str]:
    return sorted(p.name for p in EXAMPLES.glob("*.yaml"))


def test_all_examples_are_there() -> None:
    assert len(example_names()) == EXAMPLE_COUNT
    assert linted()[1] == EXAMPLE_COUNT


@pytest.mark.parametrize("name", example_names())
def test_example_passes(name: str) -> None:
    found = linted()[0].get(name, [])
    errors = [str(d) for d in found if d.severity is Severity.ERROR]
    assert errors == []
    warnings = {d.code for d in found if d.severity is Severity.WARNING}
    expected = {"AM406"} if name in NEWER_THAN_HERA else {OTHER_WARNINGS[name]} if name in OTHER_WARNINGS else set()
    assert warnings == expected, [str(d) for d in found]
    infos = {d.code for d in found if d.severity is Severity.INFO}
    assert infos == ({"AM404"} if name in NOT_WORKFLOWS else set())


@pytest.mark.parametrize("name", sorted(NEWER_THAN_HERA))
def test_newer_than_hera_examples_say_so_clearly(name: str) -> None:
    found = linted()[0][name]
    assert found and all(d.code == "AM406" and "newer than the Argo version Hera's models know" in d.message
                         for d in found)


def test_examples_lint_in_a_few_seconds() -> None:
    # About one second on the development machine (Hera's import, about two more, is paid before). The bound only
    # catches a hang or an accidental quadratic walk.
    assert linted()[2] < 20


def _hera_fields() -> dict[str, frozenset[str]]:
    import importlib

    from pydantic import BaseModel, RootModel

    from backends.argo.lint.structure import definition_name

    out = {}
    for module_name in ("io.argoproj.workflow.v1alpha1", "io.k8s.api.core.v1", "io.k8s.apimachinery.pkg.apis.meta.v1",
                        "io.k8s.api.policy.v1", "io.k8s.apimachinery.pkg.util.intstr"):
        module = importlib.import_module(f"hera.workflows.models.{module_name}")
        for cls in vars(module).values():
            if isinstance(cls, type) and issubclass(cls, BaseModel) and not issubclass(cls, RootModel) \
                    and cls.__module__ == module.__name__:
                out[definition_name(cls)] = frozenset(f.alias or n for n, f in cls.model_fields.items())
    return out


def test_newer_fields_table_is_schema_minus_hera() -> None:
    """``newer_fields.NEWER_FIELDS`` is exactly what Argo's schema has and Hera's models lack."""
    definitions = json.loads((shared_dir() / "argo" / "schema.json").read_text())["definitions"]
    expected = {}
    for name, known in _hera_fields().items():
        assert name in definitions, f"Hera model {name} has no definition in Argo's schema"
        newer = frozenset(definitions[name].get("properties", {})) - known
        if newer:
            expected[name] = newer
    assert NEWER_FIELDS == expected


def test_versions_named_in_the_table_are_the_real_ones() -> None:
    import hera.workflows.models.io.argoproj.workflow.v1alpha1 as generated

    header = Path(generated.__file__).read_text()[:300]
    assert re.search(rf"argo-workflows-{re.escape(HERA_MODELS_ARGO_VERSION)}\.json", header)
    readme = (shared_dir() / "argo" / "README.md").read_text()
    assert f"v{REFERENCE_ARGO_VERSION}" in readme
