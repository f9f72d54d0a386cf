"""Tasks of a DAG that depend on each other in a cycle.

What it checks
    The graph of ``depends``/``dependencies`` between the tasks of each DAG template has no cycle (a task depending
    on itself included). Each group of tasks that depend on each other is reported once, on its task written first,
    with a cycle through that task and the other tasks of the group that are on cycles with it.

Why
    No task of a cycle can ever start. Argo rejects the workflow ("dependency cycle detected"); an engine that did
    not would wait forever.

Example::

    - {name: a, template: t, depends: c}
    - {name: b, template: t, depends: a}
    - {name: c, template: t, depends: b}     # a -> c -> b -> a
"""

from __future__ import annotations

from collections.abc import Iterator

from backends.argo.lint.findings import Finding
from backends.argo.lint.manifest import Manifest
from backends.argo.manifest_model import cycles

NAME = "dependency-cycle"
CODES = ("AM414",)

MAX_LISTED = 5  # other tasks of an interlocked group named in the message; the rest are counted


def check(doc: Manifest) -> Iterator[Finding]:
    for dag in doc.dags:
        for cycle in cycles(dag.graph):
            first = cycle.path[0]
            task = dag.by_name[first]
            field = "depends" if "depends" in task.data else "dependencies"
            message = f"dependency cycle in DAG template '{dag.name}': {' -> '.join(cycle.path)}"
            on_path = set(cycle.path)
            others = [t for t in cycle.tasks if t not in on_path]
            if others:
                listed = ", ".join(others[:MAX_LISTED]) + (f" and {len(others) - MAX_LISTED} more"
                                                           if len(others) > MAX_LISTED else "")
                message += f" (also in cycles with these tasks: {listed})"
            yield Finding("AM414", (*task.path, field), message)
