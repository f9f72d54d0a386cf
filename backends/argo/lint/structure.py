"""Structure: every field is one Argo's API has, with a value of the right type.

The rules come from Argo's own API definitions through Hera's generated pydantic models, not from a copy we keep.
Those models ignore unknown fields, so unknown keys are found by walking the document beside the models' field
tables: a typo such as ``dependecies`` is AM405 (with a suggestion), a field only a newer Argo has is AM406
(``newer_fields``). Types and required fields are then checked by pydantic in strict JSON mode, which accepts what
Go's JSON decoder accepts: no ``"5"`` for an integer, no ``"true"`` for a boolean. Two Argo/Kubernetes leniencies are
applied first: parameter values (Argo's ``AnyString``) and resource quantities may be written as numbers.
"""

from __future__ import annotations

import difflib
import functools
import json
import types
import typing
from typing import Any

from pydantic import BaseModel, RootModel, ValidationError

from backends.argo.lint.findings import DocPath, Finding, dotted
from backends.argo.lint.newer_fields import HERA_MODELS_ARGO_VERSION, NEWER_FIELDS, REFERENCE_ARGO_VERSION

MAX_TYPE_ERRORS = 50  # per document: a wrongly shaped list of templates would otherwise print hundreds

# Go type AnyString: numbers and booleans are read as their text (pkg/apis/workflow/v1alpha1/anystring.go).
_ANY_STRING = {"Parameter": {"value", "default", "enum", "description"}, "ValueFrom": {"default"}}


@functools.cache
def models() -> dict[str, type[BaseModel]]:
    from hera.workflows import models as m

    return {"Workflow": m.Workflow, "WorkflowTemplate": m.WorkflowTemplate, "CronWorkflow": m.CronWorkflow,
            "ClusterWorkflowTemplate": m.ClusterWorkflowTemplate}


def definition_name(cls: type) -> str:
    """The API definition a Hera model was generated from, e.g. ``io.argoproj.workflow.v1alpha1.DAGTask``."""
    return f"{cls.__module__.removeprefix('hera.workflows.models.')}.{cls.__name__}"


# A type reduced to what the walk needs: ("model", cls), ("list", shape), ("dict", shape), ("quantity",),
# ("any-string",) or ("leaf",) for scalars and free-form values.
Shape = tuple[Any, ...]
_LEAF: Shape = ("leaf",)


def _shape(annotation: Any) -> Shape:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _shape(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _shape(options[0]) if len(options) == 1 else _LEAF
    if origin is list:
        return ("list", _shape(typing.get_args(annotation)[0]))
    if origin is dict:
        return ("dict", _shape(typing.get_args(annotation)[1]))
    if isinstance(annotation, type) and issubclass(annotation, RootModel):
        if annotation.__name__ == "Quantity":
            return ("quantity",)
        return _shape(annotation.model_fields["root"].annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return ("model", annotation)
    return _LEAF


@functools.cache
def _fields(cls: type[BaseModel]) -> dict[str, Shape]:
    """Field name as written in manifests (the alias) → shape."""
    any_string = _ANY_STRING.get(cls.__name__, set())
    out: dict[str, Shape] = {}
    for name, info in cls.model_fields.items():
        key = info.alias or name
        shape = _shape(info.annotation)
        if key in any_string:
            shape = ("list", ("any-string",)) if shape[0] == "list" else ("any-string",)
        out[key] = shape
    return out


class _Walk:
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def value(self, node: Any, shape: Shape, path: DocPath) -> Any:
        """``node`` with Argo's leniencies applied, unknown and newer fields left out; findings on the way."""
        kind = shape[0]
        if kind == "model":
            return self.model(node, shape[1], path)
        if kind == "list" and isinstance(node, list):
            return [self.value(item, shape[1], (*path, i)) for i, item in enumerate(node)]
        if kind == "dict" and isinstance(node, dict):
            return {k: self.value(v, shape[1], (*path, k)) for k, v in node.items()}
        if kind in ("quantity", "any-string") and isinstance(node, int | float) and not isinstance(node, bool):
            return str(node)
        if kind == "any-string" and isinstance(node, bool):
            return "true" if node else "false"
        return node

    def model(self, node: Any, cls: type[BaseModel], path: DocPath) -> Any:
        fields = _fields(cls)
        if not isinstance(node, dict) or not fields:
            return node  # pydantic reports the wrong type; a model without fields is free-form (Plugin)
        newer = NEWER_FIELDS.get(definition_name(cls), frozenset())
        out = {}
        for key, child in node.items():
            shape = fields.get(key)
            if shape is not None:
                out[key] = self.value(child, shape, (*path, key))
            elif key in newer:
                self.findings.append(Finding(
                    "AM406", (*path, key),
                    f"field '{key}' is newer than the Argo version Hera's models know (it is in Argo "
                    f"{REFERENCE_ARGO_VERSION}, Hera's models follow Argo {HERA_MODELS_ARGO_VERSION}); its content "
                    f"is not checked", at_key=True))
            else:
                self.findings.append(Finding("AM405", (*path, key), _unknown(key, cls, fields), at_key=True))
        return out


def _unknown(key: str, cls: type[BaseModel], fields: dict[str, Shape]) -> str:
    message = f"unknown field '{key}' in {cls.__name__}"
    close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.75)
    if close:
        message += f" (did you mean '{close[0]}'?)"
    return message


def _doc_path(data: Any, loc: tuple[Any, ...]) -> DocPath:
    """pydantic's error location → the path in the document; steps naming union members are skipped."""
    path: list[str | int] = []
    node = data
    for elem in loc:
        if isinstance(node, dict) and isinstance(elem, str) and elem in node:
            node = node[elem]
            path.append(elem)
        elif isinstance(node, list) and isinstance(elem, int) and 0 <= elem < len(node):
            node = node[elem]
            path.append(elem)
    return tuple(path)


def _type_findings(error: ValidationError, data: Any) -> list[Finding]:
    messages: dict[DocPath, list[str]] = {}
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        path = _doc_path(data, loc)
        if item["type"] == "missing":
            text = f"required field '{loc[-1]}' is missing" if loc else "required field is missing"
        else:
            text = item["msg"]
        found = messages.setdefault(path, [])
        if text not in found:
            found.append(text)
    findings = []
    for path, texts in list(messages.items())[:MAX_TYPE_ERRORS]:
        findings.append(Finding("AM407", path, f"{dotted(path)}: {'; or '.join(texts)}"))
    if len(messages) > MAX_TYPE_ERRORS:
        findings.append(Finding("AM407", (), f"{len(messages) - MAX_TYPE_ERRORS} more invalid values not shown"))
    return findings


def check(data: dict[str, Any], kind: str) -> list[Finding]:
    """Unknown fields, newer fields, wrong types and missing required fields of one manifest of ``kind``."""
    model = models()[kind]
    walk = _Walk()
    lenient = walk.model(data, model, ())
    try:
        model.model_validate_json(json.dumps(lenient), strict=True)
    except ValidationError as exc:
        walk.findings.extend(_type_findings(exc, data))
    return walk.findings
