"""Tasks of a DAG that depend on each other in a cycle.

What it checks
    The graph of ``depends``/``dependencies`` between the tasks of each DAG template has no cycle (a task depending
    on itself included). Each cycle is reported once, on the task of the cycle written first, with the whole cycle.

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
from backends.argo.lint.manifest import Dag, Manifest

NAME = "dependency-cycle"
CODES = ("AM414",)

_GREY, _BLACK = 1, 2


def cycles(dag: Dag) -> list[list[str]]:
    """Cycles found by a depth-first walk (iterative: DAGs may be large), each as ``[a, b, ..., a]``."""
    order = list(dag.by_name)
    graph = {name: dag.depends_on(name) for name in order}
    color: dict[str, int] = {}
    found: list[list[str]] = []
    covered: set[str] = set()
    for root in order:
        if root in color:
            continue
        color[root] = _GREY
        path = [root]
        stack = [iter(graph[root])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                color[path.pop()] = _BLACK
                stack.pop()
            elif nxt not in color:
                color[nxt] = _GREY
                path.append(nxt)
                stack.append(iter(graph[nxt]))
            elif color[nxt] == _GREY:
                cycle = path[path.index(nxt):]
                if not set(cycle) <= covered:
                    covered.update(cycle)
                    found.append([*cycle, nxt])
    return found


def check(doc: Manifest) -> Iterator[Finding]:
    for dag in doc.dags:
        position = {name: i for i, name in enumerate(dag.by_name)}
        for cycle in cycles(dag):
            first = min(cycle, key=position.__getitem__)
            # Rotate so the cycle reads from the task it is reported on.
            start = cycle.index(first)
            shown = [*cycle[start:-1], *cycle[:start], first]
            task = dag.by_name[first]
            field = "depends" if "depends" in task.data else "dependencies"
            yield Finding("AM414", (*task.path, field),
                          f"dependency cycle in DAG template '{dag.name}': {' -> '.join(shown)}")
