"""Checks every manifest the pipeline writes must pass: Hera loads it back unchanged, Argo's JSON schema accepts it,
and ``argo-migrate lint`` finds nothing to say about it."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
from hera.workflows import CronWorkflow, Workflow, WorkflowTemplate
from ruamel.yaml import YAML

from backends.argo.lint import lint_text
from tests.corpora import shared_dir

HERA = {"Workflow": Workflow, "WorkflowTemplate": WorkflowTemplate, "CronWorkflow": CronWorkflow}


@functools.cache
def _schema() -> dict[str, Any]:
    schema = json.loads((shared_dir() / "argo" / "schema.json").read_text())
    schema = copy.deepcopy(schema)
    # The published schema's one quirk (shared/argo/README.md): IntOrString admits only strings.
    schema["definitions"]["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = {"type": ["integer", "string"]}
    return schema


@functools.cache
def _validator(kind: str) -> jsonschema.protocols.Validator:
    schema = dict(_schema())
    schema.pop("oneOf", None)
    schema["$ref"] = f"#/definitions/io.argoproj.workflow.v1alpha1.{kind}"
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def load(path: Path) -> dict[str, Any]:
    """The file's first document: the manifest (WorkflowTemplates it calls may follow it)."""
    return documents(path)[0]


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in YAML(typ="safe").load_all(path.read_text()) if d is not None]


def problems(path: Path) -> list[str]:
    """Empty when every document of the manifest file at ``path`` (the manifest, then the WorkflowTemplates it
    calls) round-trips through Hera and validates against Argo's schema, and lint finds nothing in the file."""
    found: list[str] = []
    for document in documents(path):
        kind = document.get("kind")
        name = f"{path.name} ({kind} {document.get('metadata', {}).get('name')})"
        if kind not in HERA:
            found.append(f"{name}: unknown kind {kind!r}")
            continue
        found += [f"{name}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in _validator(kind).iter_errors(document)]
        reloaded = HERA[kind].from_dict(copy.deepcopy(document)).to_dict()
        if reloaded != document:
            found.append(f"{name}: Hera round trip changed the manifest")
    found.extend(f"lint: {d}" for d in lint_text(path.read_text(), str(path)))
    return found
