"""``.AnySucceeded`` or ``.AllFailed`` on a task that does not fan out.

What it checks
    A ``depends`` reference ``x.AnySucceeded`` or ``x.AllFailed`` names a task ``x`` that has ``withItems``,
    ``withParam`` or ``withSequence``.

Why
    These results are defined over the children of a fan-out (ARGO-SEMANTICS §2.1). Argo rejects them on a plain
    task ("uses an items-based condition such as .AnySucceeded or .AllFailed but does not contain any items").

Example::

    - {name: fetch, template: get}                          # no withItems: a single task
    - {name: merge, template: m, depends: fetch.AnySucceeded}
"""

from __future__ import annotations

from collections.abc import Iterator

from backends.argo.lint.findings import Finding
from backends.argo.lint.manifest import Manifest, as_list
from backends.argo.manifest_model import FAN_OUT_RESULTS

NAME = "fan-out-result"
CODES = ("AM415",)


def _fans_out(task: dict[str, object]) -> bool:
    return bool(as_list(task.get("withItems"))) or bool(task.get("withParam")) or task.get("withSequence") is not None


def check(doc: Manifest) -> Iterator[Finding]:
    for dag in doc.dags:
        for task in dag.tasks:
            if task.name is None or dag.by_name.get(task.name) is not task:
                continue
            reported: set[str] = set()
            for ref in dag.refs.get(task.name, []):
                target = dag.by_name.get(ref.task)
                if ref.result in FAN_OUT_RESULTS and target is not None and not _fans_out(target.data) \
                        and ref.task not in reported:
                    reported.add(ref.task)
                    yield Finding("AM415", (*task.path, "depends"),
                                  f"'{ref.task}.{ref.result}' needs a task that fans out, but '{ref.task}' has no "
                                  f"withItems, withParam or withSequence")
