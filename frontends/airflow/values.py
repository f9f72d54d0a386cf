"""Values of the static evaluator: what a DAG file's expressions mean, found without running them.

Plain Python constants (str, int, float, bool, None, list, tuple, dict) stand for themselves. Everything else is
one of the types below; :class:`Unknown` is any value that depends on run time and must never be guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import libcst as cst


@dataclass(frozen=True)
class Unknown:
    """A value the evaluator cannot know statically; ``why`` says what it was."""

    why: str
    node: cst.CSTNode | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Qual:
    """A name imported from a module, as its qualified name (``airflow.sdk.DAG``, ``datetime.timedelta``)."""

    name: str

    @property
    def last(self) -> str:
        return self.name.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Duration:
    seconds: float


@dataclass(frozen=True)
class DateTime:
    iso: str
    timezone: str | None = None


@dataclass(frozen=True)
class GroupItem:
    """Inside a mapped ``@task_group`` (``group.expand(key=...)``): the current value of ``key``."""

    key: str


@dataclass(frozen=True)
class AirflowVariable:
    """``Variable.get(key)``: a value of Airflow's variable store, read when the task runs (a ConfigMap in Argo)."""

    key: str
    json: bool = False


@dataclass(frozen=True)
class ParseTime:
    """``datetime.now()`` (plus ``offset`` seconds) in a DAG file: Airflow evaluates it whenever it parses the file,
    so it stands for "about when the run starts"; ``time_of_day`` when ``.time()`` was taken of it."""

    offset: float = 0
    time_of_day: bool = False


@dataclass(frozen=True)
class TimeOfDay:
    hour: int
    minute: int = 0
    second: int = 0


@dataclass(frozen=True)
class TaskRef:
    dag: int  # index of the DAG draft
    task_id: str


@dataclass(frozen=True)
class XComArg:
    """A task's output as TaskFlow passes it (``b(a())``, ``op.output``)."""

    dag: int
    task_id: str
    key: str = "return_value"


@dataclass(frozen=True)
class GroupRef:
    dag: int
    group_id: str


@dataclass(frozen=True)
class DagRef:
    dag: int


@dataclass
class LabelValue:
    """An edge label (``a >> Label("x") >> b``): it remembers its upstreams until its downstream is known."""

    text: str
    upstream: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class FuncDef:
    """A ``def`` of the file; ``decorator`` is the Airflow decorator applied (``task``, ``task.bash``, ``dag``…)."""

    node: cst.FunctionDef
    decorator: str | None = None
    decorator_kwargs: tuple[tuple[str, Any], ...] = ()

    @property
    def name(self) -> str:
        return self.node.name.value


@dataclass(frozen=True)
class Mapped:
    """The result of ``.partial()`` on an operator class or a task function, waiting for ``.expand()``."""

    target: Any
    kwargs: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class BoundMethod:
    owner: Any
    name: str


@dataclass(frozen=True)
class LocalClass:
    """A class defined in the DAG file itself (typically an in-repo custom operator)."""

    name: str
    bases: tuple[Any, ...] = ()


Value = Any


def is_task_like(value: Value) -> bool:
    return isinstance(value, TaskRef | XComArg | GroupRef | LabelValue)
