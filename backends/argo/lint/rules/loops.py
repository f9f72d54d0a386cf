"""Fan-outs (``withItems``, ``withParam``, ``withSequence``) that cannot work.

What it checks
    A task or step sets at most one of the three; a ``withSequence`` has ``count`` or ``end``, not both; a
    ``withParam`` that is not a ``{{...}}`` expression is a JSON list; ``{{item}}``/``{{item.x}}`` appear only in a
    task or step that loops, and with ``withItems`` they match the items (``{{item.x}}`` needs maps with key ``x``,
    ``{{item}}`` is the whole item), as Argo's ``addItemsToScope`` decides.

Why
    Argo rejects the first two and unresolvable ``{{item...}}`` tags when the workflow is submitted; a literal
    ``withParam`` that is not a JSON list fails the task when it is expanded, at run time.

Example::

    - name: each
      template: t
      withItems: [{os: linux}, {os: windows}]
      arguments: {parameters: [{name: os, value: "{{item.arch}}"}]}    # the items have no 'arch'
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from backends.argo.lint.findings import Finding
from backends.argo.lint.hints import listing
from backends.argo.lint.manifest import Manifest, Node, as_list, is_dynamic
from backends.argo.lint.tags import tags_in

NAME = "invalid-loop"
CODES = ("AM419",)


def _item_keys(items: list[Any]) -> set[str]:
    """The ``item...`` tags withItems makes resolvable (validate.go ``addItemsToScope``); ``{{item}}`` itself is
    the whole item, whatever its type (Argo's validator does not check it; at run time maps become JSON)."""
    keys = {"item"}
    for item in items:
        if isinstance(item, dict):
            keys.update(f"item.{k}" for k in item)
        elif isinstance(item, list):
            keys.update(f"item.[{i}]" for i in range(len(item)))
    return keys


def _holder(holder: Node, what: str) -> Iterator[Finding]:
    data = holder.data
    items = as_list(data.get("withItems"))
    param = data.get("withParam")
    sequence = data.get("withSequence")
    loops = [name for name, on in (("withItems", bool(items)), ("withParam", bool(param)),
                                   ("withSequence", sequence is not None)) if on]
    if len(loops) > 1:
        yield Finding("AM419", (*holder.path, loops[1]),
                      f"{what} sets {' and '.join(loops)}; only one of withItems, withParam, withSequence is allowed")
    if isinstance(sequence, dict) and sequence.get("count") is not None and sequence.get("end") is not None:
        yield Finding("AM419", (*holder.path, "withSequence"), f"withSequence of {what} sets both count and end")
    if isinstance(param, str) and param.strip() and not is_dynamic(param):
        try:
            parsed = json.loads(param)
        except ValueError:
            parsed = None
        if not isinstance(parsed, list):
            yield Finding("AM419", (*holder.path, "withParam"),
                          f"withParam of {what} is neither a {{{{...}}}} expression nor a JSON list")

    allowed: set[str] | None  # None: anything under item. resolves (withParam's items are known at run time)
    if not loops:
        allowed = set()
    elif "withParam" in loops:
        allowed = None
    elif loops == ["withSequence"]:
        allowed = {"item"}
    else:
        allowed = _item_keys(items)
    depth = len(holder.path)
    seen: set[str] = set()
    known = ""  # what the loop provides, worked out for the first mismatch only
    for where, tag in tags_in(data, holder.path, skip=lambda p: len(p) == depth + 1 and p[-1] == "inline"):
        if not (tag == "item" or tag.startswith("item.")) or tag in seen:
            continue
        seen.add(tag)
        if not loops:
            yield Finding("AM419", where, f"{{{{{tag}}}}} is used in {what}, which has no withItems, withParam or "
                                          f"withSequence")
        elif allowed is not None and tag not in allowed:
            known = known or listing(allowed, "{{%s}}") or "nothing"
            yield Finding("AM419", where, f"{{{{{tag}}}}} does not match the {loops[0]} of {what} (they provide "
                                          f"{known})")


def check(doc: Manifest) -> Iterator[Finding]:
    for template in doc.all_templates:
        for task in doc.dag_tasks(template):
            yield from _holder(task, f"task '{task.name or '?'}'")
        for step in doc.steps(template):
            yield from _holder(step, f"step '{step.name or '?'}'")
