"""Passes: pure functions from a Workflow to a new Workflow, run in order by the pipeline.

Each pass leaves its input untouched (it works on ``Workflow.copy()``), so that the invariant check after it can
name the pass that broke something.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from migrator.diagnostics import diag
from migrator.ir import OutputRef, PyArg, PythonCall, Workflow

Pass = Callable[[Workflow], Workflow]


def drop_empty_retries(workflow: Workflow) -> Workflow:
    """``retries=0`` means no retry strategy at all, not an Argo ``limit: 0`` block."""
    out = workflow.copy()
    for task in out.tasks():
        if task.retry is not None and task.retry.limit <= 0:
            out.replace_task(replace(task, retry=None))
    return out


def unbind_undeclared_outputs(workflow: Workflow) -> Workflow:
    """A Python argument fed by an output its producer does not declare cannot be passed: drop it, say so.

    Classic operators' XComs (a BashOperator's last stdout line, say) have no native translation yet, so the
    frontend records the data edge but the producer declares no output.
    """
    out = workflow.copy()
    found = []
    for task in out.tasks():
        if not isinstance(task.action, PythonCall):
            continue
        kept: list[PyArg] = []
        for arg in task.action.args:
            ref = arg.ref
            if isinstance(ref, OutputRef) and ref.name not in out.task(ref.task_id).outputs:
                found.append(diag("AM117", task.origin.path, task.origin.line, task.origin.column,
                                  f"task {task.id!r} reads {ref.task_id}.{ref.name}, which has no native output; "
                                  "the argument is passed as None"))
                kept.append(PyArg(arg.name, literal="None"))
            else:
                kept.append(arg)
        if tuple(kept) != task.action.args:
            out.replace_task(replace(task, action=replace(task.action, args=tuple(kept))))
    out.diagnostics = workflow.diagnostics + tuple(found)
    return out


PASSES: list[tuple[str, Pass]] = [
    ("drop-empty-retries", drop_empty_retries),
    ("unbind-undeclared-outputs", unbind_undeclared_outputs),
]
