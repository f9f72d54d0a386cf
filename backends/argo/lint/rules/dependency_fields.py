"""``depends`` mixed with ``dependencies`` or with ``continueOn`` in one DAG.

What it checks
    Within one DAG template, no task uses ``dependencies`` when any task uses ``depends``, and no task sets
    ``continueOn`` when any task uses ``depends``.

Why
    Argo's ``validateDAG`` rejects both ("cannot use both 'depends' and 'dependencies' in the same DAG template";
    "cannot use 'continueOn' when using 'depends'. Instead use 'dep-task.Failed'/'dep-task.Errored'"): the two
    syntaxes expand differently and Argo will not guess how they combine.

Example::

    tasks:
      - {name: a, template: t}
      - {name: b, template: t, depends: a}
      - {name: c, template: t, dependencies: [a]}    # 'dependencies' in a DAG that uses 'depends'
"""

from __future__ import annotations

from collections.abc import Iterator

from backends.argo.lint.findings import Finding
from backends.argo.lint.manifest import Manifest, as_list

NAME = "dependency-fields"
CODES = ("AM411",)


def check(doc: Manifest) -> Iterator[Finding]:
    for dag in doc.dags:
        if not dag.uses_depends:
            continue
        for task in dag.tasks:
            label = f"task '{task.name or '?'}'"
            if as_list(task.data.get("dependencies")):
                yield Finding("AM411", (*task.path, "dependencies"),
                              f"{label} uses 'dependencies' in DAG template '{dag.name}', which uses 'depends'; "
                              f"use one of the two")
            if task.data.get("continueOn") is not None:
                yield Finding("AM411", (*task.path, "continueOn"),
                              f"{label} uses 'continueOn' in DAG template '{dag.name}', which uses 'depends'; "
                              f"write 'dep.Failed' / 'dep.Errored' in the depends expression instead")
