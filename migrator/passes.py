"""Passes: pure functions from a Workflow to a new Workflow, run in order by the pipeline.

Each pass leaves its input untouched (it works on ``Workflow.copy()``), so that the invariant check after it can
name the pass that broke something.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import networkx as nx

from migrator.definitions import share_definitions
from migrator.diagnostics import diag
from migrator.ir import OutputRef, PyArg, PythonCall, Task, Workflow, WrappedStatus
from migrator.loops import lower_loops
from migrator.secrets import hide_secrets

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
            if isinstance(ref, OutputRef) and out.task(ref.task_id).output(ref.name) is None:
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


STRATEGIES = ("auto", "migrate", "integrate")


def apply_strategy(strategy: str) -> Pass:
    """Per workflow: ``migrate`` refuses anything wrapped; ``integrate`` runs the whole workflow on its original
    engine; ``auto`` keeps the native translation and integrates only workflows the frontend could not see whole."""

    def run(workflow: Workflow) -> Workflow:
        origin = workflow.origin
        if strategy == "migrate":
            wrapped = [t for t in workflow.tasks() if not t.native]
            if not wrapped:
                return workflow
            out = workflow.copy(graph=nx.DiGraph())
            out.diagnostics = workflow.diagnostics + tuple(
                diag("AM124", t.origin.path, t.origin.line, t.origin.column,
                     f"--strategy migrate: task {t.id!r} has no native translation; the workflow is not written")
                for t in wrapped)
            return out
        integrate = strategy == "integrate" or (strategy == "auto" and workflow.incomplete)
        if not integrate:
            return workflow
        if workflow.integration is None:
            out = workflow.copy()
            out.diagnostics = workflow.diagnostics + (diag(
                "AM125", origin.path, origin.line, origin.column,
                f"workflow {workflow.id!r} cannot be integrated with its engine; it is migrated task by task"),)
            return out
        reason = ("--strategy integrate" if strategy == "integrate"
                  else "the DAG's full structure is only known at run time")
        task = Task(id=workflow.id, origin=origin, construct="integration", action=workflow.integration,
                    status=WrappedStatus(workflow.integration.engine, reason))
        graph = nx.DiGraph()
        out = workflow.copy(graph=graph)
        out.add_task(task)
        out.on_exit = ()
        declared = {p.name for p in workflow.parameters}
        out.parameters = workflow.parameters + tuple(
            p for p in workflow.integration_parameters if p.name not in declared)
        out.diagnostics = workflow.diagnostics + (diag(
            "AM501", origin.path, origin.line, origin.column,
            f"workflow {workflow.id!r} runs whole on its original engine ({reason})"),)
        return out

    return run


PASSES: list[tuple[str, Pass]] = [
    ("drop-empty-retries", drop_empty_retries),
    ("unbind-undeclared-outputs", unbind_undeclared_outputs),
    ("hide-secrets", hide_secrets),
    ("lower-loops", lower_loops),
    ("share-definitions", share_definitions),
]
