"""``{{inputs.parameters.x}}`` and ``{{workflow.parameters.x}}`` that resolve to nothing.

What it checks
    In each template, every ``{{inputs.parameters.x}}`` (and ``{{inputs.artifacts.x}}``) names an input the template
    declares; a task or step with an ``inline`` template may also use that template's inputs, and an inline template
    is checked against its own. Everywhere in the workflow spec, every ``{{workflow.parameters.x}}`` names a
    parameter of ``spec.arguments`` (or of the WorkflowTemplate a ``workflowTemplateRef`` names, when it is linted
    too). In a WorkflowTemplate an undeclared workflow parameter is a warning (AM418): the Workflow that runs the
    template may supply it.

Why
    Argo leaves an unresolved ``{{...}}`` in place and rejects the workflow when it is submitted ("failed to resolve
    {{inputs.parameters.x}}"); a typo would otherwise reach a container as literal text.

Example::

    - name: greet
      inputs: {parameters: [{name: message}]}
      container: {image: alpine, command: [echo, "{{inputs.parameters.mesage}}"]}    # typo
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from backends.argo.lint.findings import DocPath, Finding
from backends.argo.lint.hints import Hints, listing
from backends.argo.lint.manifest import TEMPLATE_KINDS, Manifest, Node, as_dict, as_list, name_of
from backends.argo.lint.tags import tags_in

NAME = "unresolved-parameter"
CODES = ("AM417", "AM418")


def _names(holder: Any, key: str) -> frozenset[str]:
    return frozenset(n for item in as_list(as_dict(holder).get(key)) if (n := name_of(item)))


def _hint(hints: Hints, name: str, declared: frozenset[str]) -> str:
    close = hints.close(name, declared)
    if close:
        return f" (did you mean '{close}'?)"
    return f" (declared: {_listing(declared)})" if declared else " (none is declared)"


@functools.lru_cache(maxsize=64)
def _listing(declared: frozenset[str]) -> str:
    return listing(declared)  # once per set, not once per finding: a template may misuse each of 500 names


def _inputs(doc: Manifest, template: Node) -> Iterator[Finding]:
    depth = len(template.path)
    inputs = as_dict(template.data.get("inputs"))
    own = {"parameters": _names(inputs, "parameters"), "artifacts": _names(inputs, "artifacts")}
    # A task or step with an inline template may pass that template's inputs (Argo adds them to the task's scope).
    extra: dict[DocPath, dict[str, frozenset[str]]] = {}
    for holder in doc.holders(template):
        inline = as_dict(as_dict(holder.data.get("inline")).get("inputs"))
        if inline:
            extra[holder.path] = {"parameters": _names(inline, "parameters"), "artifacts": _names(inline, "artifacts")}
    label = f"template '{template.name}'" if template.name else "this inline template"
    seen: set[tuple[DocPath, str]] = set()
    for where, tag in tags_in(template.data, template.path,
                              skip=lambda p: len(p) == depth + 4 and p[-1] == "inline"):
        parts = tag.split(".")
        if parts[0] != "inputs" or len(parts) < 2 or parts[1] not in own or (where, tag) in seen:
            continue
        seen.add((where, tag))
        kind = parts[1]
        passed = extra.get(where[:depth + 3])  # the inputs of the inline template of this task or step
        declared = own[kind] | passed[kind] if passed else own[kind]
        what = "input parameter" if kind == "parameters" else "input artifact"
        if len(parts) == 2:
            if not declared and kind == "parameters":
                yield Finding("AM417", where, f"{{{{{tag}}}}} is used in {label}, which has no input parameters")
        elif parts[2] not in declared:
            yield Finding("AM417", where, f"{{{{{tag}}}}} names no {what} of {label}"
                                          f"{_hint(doc.hints, parts[2], declared)}")


def _workflow(doc: Manifest) -> Iterator[Finding]:
    spec = doc.spec
    declared = _names(spec.get("arguments"), "parameters")
    workflow_ref = spec.get("workflowTemplateRef")
    if isinstance(workflow_ref, dict):
        referenced, _ = doc.template_ref(workflow_ref)
        if referenced is None:
            return  # the parameters come from a WorkflowTemplate that is not linted here
        declared |= referenced.parameters
    template_kind = doc.kind in TEMPLATE_KINDS
    depth = len(doc.spec_path)
    seen: set[tuple[DocPath, str]] = set()
    for where, tag in tags_in(spec, doc.spec_path, skip=lambda p: len(p) == depth + 1 and p[-1] == "arguments"):
        parts = tag.split(".")
        if parts[:2] != ["workflow", "parameters"] or (where, tag) in seen:
            continue
        seen.add((where, tag))
        if len(parts) == 2 or parts[2:] == ["json"]:
            if not declared and not template_kind:
                yield Finding("AM417", where, f"{{{{{tag}}}}} is used, but spec.arguments declares no parameters")
        elif parts[2] not in declared:
            if template_kind:
                yield Finding("AM418", where, f"{{{{{tag}}}}}: '{parts[2]}' is not declared in spec.arguments; the "
                                              f"Workflow that runs this template must supply it"
                                              f"{_hint(doc.hints, parts[2], declared) if declared else ''}")
            else:
                yield Finding("AM417", where, f"{{{{{tag}}}}} names no parameter of spec.arguments"
                                              f"{_hint(doc.hints, parts[2], declared)}")


def check(doc: Manifest) -> Iterator[Finding]:
    for template in doc.all_templates:
        yield from _inputs(doc, template)
    yield from _workflow(doc)
