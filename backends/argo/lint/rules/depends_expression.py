"""A ``depends`` expression that does not parse.

What it checks
    Every ``depends`` is a well-formed expression of task references joined by ``&&``, ``||``, ``!`` and
    parentheses, where a reference is ``task`` or ``task.Result`` and Result is one of Succeeded, Failed, Errored,
    Skipped, Omitted, Daemoned, AnySucceeded, AllFailed (``backends/argo/manifest_model.py`` holds the grammar).

Why
    Argo checks only the result names when a workflow is submitted (``ValidateTaskResults``); the rest of the
    expression is evaluated by expr-lang when the task is about to run, so ``a &&`` or ``a.Succeded`` fails the DAG
    mid-run, after the upstream work was done.

Example::

    - name: report
      depends: "build.Succeded && (test"     # misspelt result, unclosed parenthesis
"""

from __future__ import annotations

from collections.abc import Iterator

from backends.argo.lint.findings import Finding
from backends.argo.lint.manifest import Manifest

NAME = "depends-expression"
CODES = ("AM412",)


def check(doc: Manifest) -> Iterator[Finding]:
    for dag in doc.dags:
        for task in dag.tasks:
            error = dag.errors.get(task.name or "")
            if error is not None and dag.by_name.get(task.name or "") is task:
                yield Finding("AM412", (*task.path, "depends"),
                              f"depends of task '{task.name}' is invalid: {error.message}")
