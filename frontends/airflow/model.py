"""What the interpreter records while it walks a DAG file: DAGs and tasks as Airflow would build them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from frontends.airflow.values import FuncDef


@dataclass
class TaskDraft:
    task_id: str
    construct: str  # operator class name, or "@task", "@task.bash"…
    qualname: str  # where the construct comes from (module path), "" for local
    line: int
    column: int
    kwargs: dict[str, Any] = field(default_factory=dict)
    function: FuncDef | None = None  # TaskFlow function
    call_args: list[tuple[str | None, Any]] = field(default_factory=list)  # TaskFlow call arguments
    expanded: dict[str, Any] | None = None  # .expand(...) arguments of a mapped task
    splat: bool = False
    # The .expand(...) arguments of the mapped @task_group this task belongs to, and that group's id.
    group_expanded: dict[str, Any] | None = None
    mapped_group: str | None = None

    @property
    def mapped(self) -> bool:
        return self.expanded is not None or self.group_expanded is not None

    def arg(self, name: str, default: Any = None) -> Any:
        return self.kwargs.get(name, default)


@dataclass
class DagDraft:
    index: int
    dag_id: str
    line: int
    column: int
    kwargs: dict[str, Any] = field(default_factory=dict)
    default_args: dict[str, Any] = field(default_factory=dict)
    tasks: dict[str, TaskDraft] = field(default_factory=dict)
    edges: list[tuple[str, str, bool]] = field(default_factory=list)  # (upstream, downstream, carries data)
    groups: dict[str, list[str]] = field(default_factory=dict)  # group id → member task ids (nested included)
    edge_labels: dict[tuple[str, str], str] = field(default_factory=dict)

    def add_edge(self, upstream: str, downstream: str, data: bool = False) -> None:
        self.edges.append((upstream, downstream, data))

    def roots(self, group_id: str) -> list[str]:
        members = set(self.groups.get(group_id, ()))
        inner = {v for u, v, _ in self.edges if u in members and v in members}
        return [t for t in self.groups.get(group_id, ()) if t not in inner]

    def leaves(self, group_id: str) -> list[str]:
        members = set(self.groups.get(group_id, ()))
        inner = {u for u, v, _ in self.edges if u in members and v in members}
        return [t for t in self.groups.get(group_id, ()) if t not in inner]
