"""A workflow larger than Argo's object size limit (1 MiB of JSON) is split into parts: the nested DAGs under the
entrypoint move, with every template they use, into WorkflowTemplates written in the same file, and the
entrypoint calls them by ``templateRef``. Each object then stays under the limit; ``kubectl apply -f`` creates them
together. A template a part needs is copied into it (a ``templateRef``'s template resolves inside its own
WorkflowTemplate); workflow parameters and the run's variables stay those of the calling workflow.
"""

from __future__ import annotations

import json
from typing import Any

MAX_OBJECT_BYTES = 1024 * 1024
# A part is filled up to this much, leaving room for its metadata and the copies of shared templates.
PART_BUDGET = 900 * 1024


def size(document: dict[str, Any]) -> int:
    """The object's size as Argo measures it: compact JSON."""
    return len(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _spec(document: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = document["spec"].get("workflowSpec", document["spec"])
    return spec


def _calls(template: dict[str, Any]) -> list[str]:
    return [t["template"] for t in (template.get("dag") or {}).get("tasks", []) if "template" in t]


def _closure(name: str, by_name: dict[str, dict[str, Any]]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    stack = [name]
    while stack:
        current = stack.pop()
        if current in seen or current not in by_name:
            continue
        seen.add(current)
        out.append(current)
        stack.extend(reversed(_calls(by_name[current])))
    return out


def split(document: dict[str, Any], name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``document`` and the WorkflowTemplates its nested DAGs moved to; unchanged when it is small enough."""
    if size(document) <= MAX_OBJECT_BYTES:
        return document, []
    spec = _spec(document)
    by_name = {t["name"]: t for t in spec["templates"]}
    entry = by_name[spec["entrypoint"]]
    movable = [t["template"] for t in entry["dag"]["tasks"] if "dag" in by_name.get(t.get("template", ""), {})]
    parts: list[tuple[list[str], int]] = []
    for block in movable:
        names = _closure(block, by_name)
        weight = sum(size(by_name[n]) for n in names)
        if parts and parts[-1][1] + weight <= PART_BUDGET:
            parts[-1][0].extend(n for n in names if n not in parts[-1][0])
            parts[-1] = (parts[-1][0], parts[-1][1] + weight)
        else:
            parts.append((list(names), weight))
    part_of: dict[str, str] = {}
    documents: list[dict[str, Any]] = []
    for i, (names, _) in enumerate(parts, start=1):
        part_name = f"{name[:58]}-p{i}"
        for block in movable:
            if block in names:
                part_of[block] = part_name
        documents.append({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate",
            "metadata": {"name": part_name, "annotations": dict(document["metadata"].get("annotations") or {})},
            "spec": {"templates": [by_name[n] for n in names]},
        })
    for task in entry["dag"]["tasks"]:
        target = part_of.get(task.get("template", ""))
        if target is not None:
            task["templateRef"] = {"name": target, "template": task.pop("template")}
    # What the entrypoint still calls itself (moved blocks are now templateRefs) and the exit handler stay.
    still_used = set(_closure(spec["entrypoint"], by_name))
    if spec.get("onExit"):
        still_used.update(_closure(spec["onExit"], by_name))
    spec["templates"] = [t for t in spec["templates"] if t["name"] in still_used]
    return document, documents
