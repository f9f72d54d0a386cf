"""A dependency on a task that does not exist.

What it checks
    Every task named in a ``depends`` expression or a ``dependencies`` list, or in the DAG's ``target``, is a task
    of the same DAG template.

Why
    Argo rejects it ("dependency 'x' not defined", "target 'x' is not defined"); usually it is a typo, or a task
    that was renamed or moved to another DAG.

Example::

    - {name: load, template: t, depends: "extarct"}    # no task 'extarct'
"""

from __future__ import annotations

from collections.abc import Iterator

from backends.argo.lint.findings import DocPath, Finding
from backends.argo.lint.manifest import Manifest, as_list, is_dynamic

NAME = "unknown-dependency"
CODES = ("AM413",)


def check(doc: Manifest) -> Iterator[Finding]:
    for dag in doc.dags:
        names = dag.by_name.keys()
        target = dag.dag.data.get("target")
        if isinstance(target, str):
            for name in target.split(" "):
                if name and not is_dynamic(name) and name not in dag.by_name:
                    yield Finding("AM413", (*dag.dag.path, "target"),
                                  f"target '{name}' is not a task of DAG template '{dag.name}'"
                                  f"{doc.hints.did_you_mean(name, names)}")
        for task in dag.tasks:
            if task.name is None or dag.by_name.get(task.name) is not task:
                continue
            uses_depends = isinstance(task.data.get("depends"), str) and task.data["depends"].strip()
            reported: set[str] = set()
            for ref in dag.refs.get(task.name, []):
                if ref.task in dag.by_name or ref.task in reported:
                    continue
                reported.add(ref.task)
                hint = doc.hints.did_you_mean(ref.task, names)
                if uses_depends:
                    where: DocPath = (*task.path, "depends")
                else:
                    where = (*task.path, "dependencies", ref.offset)
                    if ref.offset >= len(as_list(task.data.get("dependencies"))):
                        where = (*task.path, "dependencies")
                yield Finding("AM413", where, f"task '{task.name}' depends on '{ref.task}', which is not a task of "
                                              f"DAG template '{dag.name}'{hint}")
