"""Two things that must be told apart by name have the same one.

What it checks
    Template names in ``spec.templates``; task names within one DAG; step names within one steps template (across
    all its parallel groups); parameter and artifact names within each list (workflow arguments, a template's inputs
    or outputs, a task's or step's arguments).

Why
    Argo resolves templates, tasks, steps and parameters by name (``validateWorkflowFieldNames`` and
    ``validateSteps`` reject duplicates); with two of a name, one of them would silently never be used.

Example::

    dag:
      tasks:
        - {name: fetch, template: get}
        - {name: fetch, template: get-other}   # second 'fetch'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from backends.argo.lint.findings import DocPath, Finding
from backends.argo.lint.manifest import Manifest, Node, as_dict

NAME = "duplicate-name"
CODES = ("AM409",)


def _duplicates(nodes: Iterable[tuple[DocPath, object]], what: str, scope: str) -> Iterator[Finding]:
    first: dict[str, DocPath] = {}
    for path, name in nodes:
        if not isinstance(name, str) or not name:
            continue
        if name in first:
            yield Finding("AM409", (*path, "name"), f"{what} name '{name}' is used twice {scope}")
        else:
            first[name] = path


def _named(nodes: list[Node]) -> list[tuple[DocPath, object]]:
    return [(n.path, n.data.get("name")) for n in nodes]


def check(doc: Manifest) -> Iterator[Finding]:
    yield from _duplicates(_named(doc.templates), "template", "in spec.templates")
    for dag in doc.dags:
        yield from _duplicates(_named(dag.tasks), "task", f"in DAG template '{dag.name}'")
    for template in doc.all_templates:
        steps = doc.steps(template)
        if steps:
            yield from _duplicates(_named(steps), "step", f"in steps template '{template.name or '?'}'")
    for path, items in doc.iter_parameter_lists():
        what = "parameter" if path[-1] == "parameters" else "artifact"
        yield from _duplicates([((*path, i), as_dict(item).get("name")) for i, item in enumerate(items)],
                               what, "in this list")
