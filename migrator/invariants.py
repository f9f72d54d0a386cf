"""Invariants every IR must hold after the frontend and after each pass."""

from __future__ import annotations

import networkx as nx

from migrator.diagnostics import Diagnostic, diag
from migrator.ir import OutputRef, ParamRef, PythonCall, Task, Text, Workflow, cond_refs, text_refs


def _texts(task: Task) -> list[Text]:
    action = task.action
    found: list[Text] = [value for _, value in task.arguments]
    if task.when:
        found.append(tuple(cond_refs(task.when)))
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
    if task.loop:
        refs.extend(task.loop.refs())
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
    upstream = _Reachability(graph)
    for node in graph.nodes:
        task = workflow.task(node)
        if task.group is not None and task.group not in workflow.groups:
            problems.append(f"task {node!r} is in unknown group {task.group!r}")
        for ref in references(task):
            if isinstance(ref, ParamRef) and ref.name not in params:
                problems.append(f"task {node!r} uses undefined parameter {ref.name!r}")
            if isinstance(ref, OutputRef):
                if ref.task_id not in graph:
                    problems.append(f"task {node!r} reads output of unknown task {ref.task_id!r}")
                elif not upstream.reaches(ref.task_id, node):
                    problems.append(f"task {node!r} reads output of {ref.task_id!r}, which is not upstream")
                elif workflow.task(ref.task_id).output(ref.name) is None:
                    problems.append(f"task {node!r} reads undeclared output {ref.task_id}.{ref.name}")
        problems.extend(_port_problems(workflow, task))
    problems.extend(_group_problems(workflow))
    return problems


def _port_problems(workflow: Workflow, task: Task) -> list[str]:
    """Arguments bind declared inputs, and a data edge joins ports of one type."""
    problems: list[str] = []
    declared = {p.name: p for p in task.inputs}
    for name, value in task.arguments:
        port = declared.get(name)
        if port is None:
            problems.append(f"task {task.id!r} passes argument {name!r} to no input")
            continue
        if len(value) == 1 and isinstance(value[0], OutputRef) and value[0].task_id in workflow.graph:
            source = workflow.task(value[0].task_id).output(value[0].name)
            if source is not None and source.type != port.type and (source.type.is_path or port.type.is_path):
                problems.append(f"port type mismatch: {value[0].task_id}.{value[0].name} ({source.type}) feeds "
                                f"{task.id}.{name} ({port.type})")
    return problems


def _group_problems(workflow: Workflow) -> list[str]:
    problems: list[str] = []
    for gid, group in workflow.groups.items():
        if group.id != gid:
            problems.append(f"group {gid!r} carries id {group.id!r}")
        seen = {gid}
        parent = group.parent
        while parent is not None:
            if parent in seen:
                problems.append(f"group cycle through {gid!r}")
                break
            if parent not in workflow.groups:
                problems.append(f"group {gid!r} has unknown parent {parent!r}")
                break
            seen.add(parent)
            parent = workflow.groups[parent].parent
    return problems


class _Reachability:
    """``reaches(a, b)``: is ``a`` upstream of ``b``? Answered by a backward search from ``b`` that stops at nodes
    placed before ``a`` in a topological order, so that checking every reference does not scan the whole graph
    once per task."""

    def __init__(self, graph: nx.DiGraph) -> None:
        self.graph = graph
        self.rank = {n: i for i, n in enumerate(nx.topological_sort(graph))}

    def reaches(self, a: str, b: str) -> bool:
        floor = self.rank[a]
        if floor >= self.rank[b]:
            return False
        stack, seen = [b], {b}
        while stack:
            for p in self.graph.predecessors(stack.pop()):
                if p == a:
                    return True
                if p not in seen and self.rank[p] > floor:
                    seen.add(p)
                    stack.append(p)
        return False


def check_diagnostics(workflow: Workflow, stage: str) -> list[Diagnostic]:
    origin = workflow.origin
    return [
        diag("AM902", origin.path, origin.line, origin.column, f"after {stage}: {problem}")
        for problem in check(workflow)
    ]
