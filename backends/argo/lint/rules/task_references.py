"""``{{tasks.x...}}`` where ``x`` is not an ancestor of the task that uses it.

What it checks
    In a DAG task (its arguments, ``when``, loops...), every ``{{tasks.x.…}}`` tag names a task that the task
    depends on, directly or through other tasks. A task may name itself only in its hooks. In a DAG template's
    ``outputs``, ``x`` must be one of its tasks. Expression tags (``{{= ...}}``) are not checked. In a DAG over
    Argo's 200-task limit (AM401), only direct dependencies count as known ancestors and other references are
    not checked: finding the ancestors of every task of such a DAG would take time quadratic in its size.

Why
    Argo resolves ``tasks.x`` from the ancestors of the running task only: anything else is not finished, or not
    known, when the task starts. Argo's validator rejects ``{{tasks.x.status}}`` of a non-ancestor and arguments
    fed from one ("missing dependency"); other references fail at run time.

Example::

    - {name: a, template: produce}
    - name: b
      template: consume
      arguments: {parameters: [{name: v, value: "{{tasks.a.outputs.result}}"}]}   # b does not depend on a
"""

from __future__ import annotations

from collections.abc import Iterator

from backends.argo.lint.findings import DocPath, Finding
from backends.argo.lint.manifest import Dag, Manifest, Node
from backends.argo.lint.tags import tags_in

NAME = "non-ancestor-reference"
CODES = ("AM416",)


def referenced_task(tag: str) -> str | None:
    """``tasks.x.outputs.result`` → ``x``; ``tasks.name`` (the current task's name) and other tags → None."""
    if not tag.startswith("tasks.") or tag == "tasks.name":
        return None
    name = tag.split(".")[1]
    return name or None


def _in_task(dag: Dag, task: Node) -> Iterator[Finding]:
    name = task.name
    if name is None or dag.by_name.get(name) is not task:
        return
    depth = len(task.path)
    seen: set[tuple[DocPath, str]] = set()
    # An inline template is a template of its own (its tags are its business); hooks may name the task itself.
    for where, tag in tags_in(task.data, task.path, skip=lambda p: p[depth] == "inline"):
        target = referenced_task(tag)
        if target is None or (where, target) in seen:
            continue
        seen.add((where, target))
        if target == name:
            if where[depth] != "hooks":
                yield Finding("AM416", where, f"task '{name}' uses its own {{{{{tag}}}}}; only its hooks can")
        elif target not in dag.by_name:
            yield Finding("AM416", where, f"{{{{{tag}}}}} in task '{name}' names '{target}', which is not a task of "
                                          f"DAG template '{dag.name}'")
        elif dag.is_ancestor(target, name) is False:
            yield Finding("AM416", where, f"{{{{{tag}}}}} in task '{name}' names '{target}', which is not an "
                                          f"ancestor of '{name}': add it to depends")


def check(doc: Manifest) -> Iterator[Finding]:
    for dag in doc.dags:
        for task in dag.tasks:
            yield from _in_task(dag, task)
        outputs = dag.template.child("outputs")
        if outputs is None:
            continue
        for where, tag in tags_in(outputs.data, outputs.path):
            target = referenced_task(tag)
            if target is not None and target not in dag.by_name:
                yield Finding("AM416", where, f"{{{{{tag}}}}} in the outputs of DAG template '{dag.name}' names "
                                              f"'{target}', which is not one of its tasks")
