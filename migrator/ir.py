"""The neutral intermediate representation every frontend produces and every backend consumes.

A workflow is a ``networkx.DiGraph`` whose nodes are task ids carrying a :class:`Task` under the ``"task"`` key and
whose edges carry an :class:`EdgeKind`. Payloads are frozen dataclasses so that passes, being pure functions, can share
unchanged parts between their input and output without defensive copies.

Nothing here knows a source language or Argo: templated text is a tuple of literal strings and typed references
(:data:`Text`), which each backend renders in its own syntax.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import networkx as nx

from migrator.diagnostics import Diagnostic


@dataclass(frozen=True, order=True)
class SourceLoc:
    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


# --- templated text ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamRef:
    """The run-time value of a workflow parameter."""

    name: str


@dataclass(frozen=True)
class OutputRef:
    """A named output of another task (for example Airflow's ``return_value`` XCom)."""

    task_id: str
    name: str = "return_value"


@dataclass(frozen=True)
class InputRef:
    """A named input of the task itself (used inside shared, parameterised templates)."""

    name: str


@dataclass(frozen=True)
class RunMeta:
    """Metadata of the current run: ``logical_date`` (formatted with strftime ``fmt`` when given, moved by
    ``days``) or ``run_id``."""

    field: str
    fmt: str | None = None
    days: int = 0


@dataclass(frozen=True)
class ItemRef:
    """The current element of the task's loop, or one key of it when the elements are objects."""

    key: str | None = None


@dataclass(frozen=True)
class SecretRef:
    """A value kept in a secret store (a Kubernetes Secret): the manifest holds the reference, never the value."""

    name: str
    key: str


Ref = ParamRef | OutputRef | InputRef | RunMeta | ItemRef | SecretRef
Text = tuple[str | Ref, ...]


def text(value: str) -> Text:
    return (value,) if value else ()


def text_refs(value: Text) -> Iterator[Ref]:
    return (part for part in value if not isinstance(part, str))


def plain(value: Text) -> str | None:
    """The text as a plain string, or None when it holds references."""
    if all(isinstance(part, str) for part in value):
        return "".join(part for part in value if isinstance(part, str))
    return None


# --- what a task runs --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContainerRun:
    """A command in a container image; ``command`` is the entrypoint vector, ``args`` follow it."""

    image: str
    command: tuple[Text, ...] = ()
    args: tuple[Text, ...] = ()
    env: tuple[tuple[str, Text], ...] = ()
    # Kubernetes pod and container settings passed through as JSON, by their Kubernetes field names
    # (nodeSelector, tolerations, affinity, volumes, volumeMounts, imagePullPolicy, serviceAccountName…).
    kubernetes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PyArg:
    """One argument of a Python call: literal Python source, or a reference whose value arrives as JSON."""

    name: str | None  # None for positional, "**" for a mapping splatted as keyword arguments
    literal: str | None = None
    ref: Ref | None = None


@dataclass(frozen=True)
class PythonCall:
    """Call one Python function, defined in ``source``, after ``preamble`` (imports it needs)."""

    function: str
    source: str
    preamble: str = ""
    args: tuple[PyArg, ...] = ()
    image: str | None = None  # None: the backend's default Python image
    env: tuple[tuple[str, Text], ...] = ()
    requirements: tuple[str, ...] = ()  # pip requirement strings to install before the call
    # After the call: "return" keeps the return value as output ``return_value`` (JSON); "bash" runs the returned
    # string with ``bash -c`` and fails with its exit code (Airflow's @task.bash); "branch" writes output
    # ``targets[i][1]`` as "true" when the returned task id (or list of ids) names ``targets[i][0]`` or a group
    # holding it, else "false"; "short_circuit" writes output ``proceed`` as "true" or "false".
    result: str = "return"
    targets: tuple[tuple[str, str], ...] = ()
    # Call repeatedly until the result (or its ``is_done``) is true: (seconds between calls, timeout seconds).
    poll: tuple[int, int] | None = None
    # With ``poll``: on timeout, succeed and write output ``proceed`` as "false" instead of failing.
    soft_fail: bool = False


@dataclass(frozen=True)
class Wait:
    """Pause: for ``seconds``, or until someone resumes the run (a human decision), optionally asking for
    ``inputs`` (name, default, allowed values, description) when resuming."""

    seconds: int | None = None
    inputs: tuple[tuple[str, str | None, tuple[str, ...], str | None], ...] = ()


@dataclass(frozen=True)
class RunWorkflow:
    """Start another migrated workflow (by its source id) with ``parameters``; with ``wait``, finish with it."""

    target: str
    parameters: tuple[tuple[str, Text], ...] = ()
    wait: bool = False


@dataclass(frozen=True)
class AwaitWorkflow:
    """Wait until the latest run of another migrated workflow (by its source id) has succeeded."""

    target: str
    poll_seconds: int = 60
    timeout_seconds: int = 7 * 24 * 3600


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: Text
    headers: tuple[tuple[str, Text], ...] = ()
    body: Text | None = None
    success_condition: str | None = None  # an expression over response.statusCode / response.body
    timeout_seconds: int | None = None


@dataclass(frozen=True)
class Resource:
    """Create a Kubernetes object (``manifest``, a JSON document) and wait for its success or failure condition."""

    manifest: str
    action: str = "create"
    success_condition: str | None = None
    failure_condition: str | None = None


@dataclass(frozen=True)
class Noop:
    """A task that does nothing but take part in ordering (Airflow's EmptyOperator)."""


@dataclass(frozen=True)
class Wrapped:
    """Run the construct with its original engine; ``engine`` picks the wrapper from the catalogue."""

    engine: str
    payload: tuple[tuple[str, str], ...] = ()

    def get(self, key: str, default: str = "") -> str:
        return dict(self.payload).get(key, default)


Action = ContainerRun | PythonCall | Noop | Wrapped | Wait | RunWorkflow | AwaitWorkflow | HttpRequest | Resource


# --- translation status ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Native:
    kind: str = "native"


@dataclass(frozen=True)
class WrappedStatus:
    engine: str
    reason: str
    kind: str = "wrapped"


Status = Native | WrappedStatus


# --- scheduling, retry, resources --------------------------------------------------------------------------------


class JoinRule(enum.Enum):
    """When a task may start given its upstreams' outcomes (modelled on Airflow's twelve trigger rules)."""

    ALL_SUCCESS = "all_success"
    ALL_FAILED = "all_failed"
    ALL_DONE = "all_done"
    ALL_DONE_MIN_ONE_SUCCESS = "all_done_min_one_success"
    ALL_SKIPPED = "all_skipped"
    ONE_SUCCESS = "one_success"
    ONE_FAILED = "one_failed"
    ONE_DONE = "one_done"
    NONE_FAILED = "none_failed"
    NONE_FAILED_MIN_ONE_SUCCESS = "none_failed_min_one_success"
    NONE_SKIPPED = "none_skipped"
    ALWAYS = "always"
    # A teardown task: all upstreams done and its setup tasks succeeded. Argo has no such join; the backend
    # approximates it with ALL_DONE and says so.
    ALL_DONE_SETUP_SUCCESS = "all_done_setup_success"


@dataclass(frozen=True)
class Retry:
    limit: int
    delay_seconds: int | None = None
    backoff_factor: float | None = None
    max_delay_seconds: int | None = None


@dataclass(frozen=True)
class Resources:
    cpu: str | None = None
    memory: str | None = None
    gpu: int | None = None


@dataclass(frozen=True)
class Schedule:
    cron: str
    timezone: str | None = None
    catchup: bool = False
    max_active_runs: int | None = None


@dataclass(frozen=True)
class Loop:
    """A fan-out: over literal ``items`` (each a JSON document) or over the JSON list another task outputs."""

    items: tuple[str, ...] | None = None
    over: OutputRef | None = None


@dataclass(frozen=True)
class Parameter:
    name: str
    default: str | None = None
    description: str | None = None
    # Read from a configuration store (a Kubernetes ConfigMap name and key) instead of a default value.
    config_map: tuple[str, str] | None = None


# --- tasks and workflows -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    id: str
    origin: SourceLoc
    construct: str
    action: Action
    status: Status = Native()
    outputs: tuple[str, ...] = ()
    resources: Resources | None = None
    retry: Retry | None = None
    timeout_seconds: int | None = None
    join: JoinRule = JoinRule.ALL_SUCCESS
    when: Text | None = None
    loop: Loop | None = None
    doc: str | None = None
    # A shared limit on concurrent tasks across workflows (Airflow's pools): its name.
    semaphore: str | None = None
    # Keep going when this task fails: it never fails the workflow (exit handlers, callbacks).
    tolerate_failure: bool = False

    @property
    def native(self) -> bool:
        return isinstance(self.status, Native)


class EdgeKind(enum.Enum):
    ORDER = "order"
    DATA = "data"


@dataclass
class Workflow:
    """One source pipeline (an Airflow DAG, a Snakefile's target, a CWL Workflow)."""

    id: str
    origin: SourceLoc
    graph: nx.DiGraph = field(default_factory=nx.DiGraph)
    parameters: tuple[Parameter, ...] = ()
    schedule: Schedule | None = None
    timeout_seconds: int | None = None
    fail_fast: bool = False
    description: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    # How to run the whole workflow with its original engine (the integration strategy), when that is possible.
    integration: Wrapped | None = None
    integration_parameters: tuple[Parameter, ...] = ()
    # The frontend could not see every task (a loop or condition only known at run time, say).
    incomplete: bool = False
    parallelism: int | None = None  # at most this many tasks at once
    # Run after the workflow ends, whatever happened (callbacks); each task's ``when`` may test RunMeta("status").
    on_exit: tuple[Task, ...] = ()

    # Graph access goes through these helpers so that passes never touch networkx attribute names directly.
    def add_task(self, task: Task) -> None:
        self.graph.add_node(task.id, task=task)

    def add_edge(self, upstream: str, downstream: str, kind: EdgeKind = EdgeKind.ORDER) -> None:
        existing = self.graph.get_edge_data(upstream, downstream)
        if existing and existing["kind"] is EdgeKind.DATA:
            return
        self.graph.add_edge(upstream, downstream, kind=kind)

    def task(self, task_id: str) -> Task:
        return self.graph.nodes[task_id]["task"]

    def tasks(self) -> list[Task]:
        """Tasks in a deterministic topological order (ties broken by source position, then id)."""
        key = {n: (self.task(n).origin, n) for n in self.graph.nodes}
        try:
            order = list(nx.lexicographical_topological_sort(self.graph, key=key.__getitem__))
        except nx.NetworkXUnfeasible:
            order = sorted(self.graph.nodes, key=key.__getitem__)
        return [self.task(n) for n in order]

    def upstream(self, task_id: str) -> list[str]:
        return sorted(self.graph.predecessors(task_id))

    def copy(self, **changes: object) -> Workflow:
        """A shallow copy with a copied graph (or the one given), so that a pass edits without touching its input."""
        changes.setdefault("graph", self.graph.copy())
        return replace(self, **changes)  # type: ignore[arg-type]

    def replace_task(self, task: Task) -> None:
        self.graph.nodes[task.id]["task"] = task
