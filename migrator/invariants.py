"""Invariants every IR must hold after the frontend and after each pass."""

from __future__ import annotations

import networkx as nx

from migrator.diagnostics import Diagnostic, diag
from migrator.ir import OutputRef, ParamRef, PythonCall, Task, Text, Workflow, text_refs


def _texts(task: Task) -> list[Text]:
    action = task.action
    found: list[Text] = []
    if task.when:
        found.append(task.when)
    command = getattr(action, "command", ())
    args = getattr(action, "args", ())
    if isinstance(action, PythonCall):
        return found
    found.extend(command)
    found.extend(args)
    found.extend(value for _, value in getattr(action, "env", ()))
    return found


def references(task: Task) -> list[OutputRef | ParamRef]:
    refs: list[OutputRef | ParamRef] = []
    for value in _texts(task):
        refs.extend(r for r in text_refs(value) if isinstance(r, OutputRef | ParamRef))
    if isinstance(task.action, PythonCall):
        refs.extend(a.ref for a in task.action.args if isinstance(a.ref, OutputRef | ParamRef))
    if task.loop and task.loop.over:
        refs.append(task.loop.over)
    return refs


def check(workflow: Workflow) -> list[str]:
    """Violations as messages; an empty list means the IR is consistent."""
    problems: list[str] = []
    graph = workflow.graph
    for node, data in graph.nodes(data=True):
        task = data.get("task")
        if not isinstance(task, Task):
            problems.append(f"node {node!r} has no task")
        elif task.id != node:
            problems.append(f"node {node!r} carries task {task.id!r}")
    if problems:  # the checks below read every node's task
        return problems
    if not nx.is_directed_acyclic_graph(graph):
        cycle = " -> ".join(str(u) for u, _ in nx.find_cycle(graph))
        problems.append(f"cycle: {cycle}")
        return problems
    params = {p.name for p in workflow.parameters}
    if len(params) != len(workflow.parameters):
        problems.append("duplicate workflow parameter names")
    for node in graph.nodes:
        task = workflow.task(node)
        ancestors = nx.ancestors(graph, node)
        for ref in references(task):
            if isinstance(ref, ParamRef) and ref.name not in params:
                problems.append(f"task {node!r} uses undefined parameter {ref.name!r}")
            if isinstance(ref, OutputRef):
                if ref.task_id not in graph:
                    problems.append(f"task {node!r} reads output of unknown task {ref.task_id!r}")
                elif ref.task_id not in ancestors:
                    problems.append(f"task {node!r} reads output of {ref.task_id!r}, which is not upstream")
                elif ref.name not in workflow.task(ref.task_id).outputs:
                    problems.append(f"task {node!r} reads undeclared output {ref.task_id}.{ref.name}")
    return problems


def check_diagnostics(workflow: Workflow, stage: str) -> list[Diagnostic]:
    origin = workflow.origin
    return [
        diag("AM902", origin.path, origin.line, origin.column, f"after {stage}: {problem}")
        for problem in check(workflow)
    ]
