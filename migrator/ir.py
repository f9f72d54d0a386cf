"""The neutral intermediate representation every frontend produces and every backend consumes.

A workflow is a ``networkx.DiGraph`` whose nodes are task ids carrying a :class:`Task` under the ``"task"`` key and
whose edges carry an :class:`EdgeKind`. Payloads are frozen dataclasses so that passes, being pure functions, can share
unchanged parts between their input and output without defensive copies.

Nothing here knows a source language or Argo: templated text is a tuple of literal strings and typed references
(:data:`Text`), which each backend renders in its own syntax.
"""

from __future__ import annotations

import enum
import heapq
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


@dataclass(frozen=True)
class OutputPath:
    """Where the task itself writes its File or Directory output ``name`` (the backend decides the folder)."""

    name: str


Ref = ParamRef | OutputRef | InputRef | RunMeta | ItemRef | SecretRef | OutputPath
Text = tuple[str | Ref, ...]


# --- typed values and ports --------------------------------------------------------------------------------------


class ValueKind(enum.Enum):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    JSON = "json"
    FILE = "file"
    DIRECTORY = "directory"


@dataclass(frozen=True)
class PortType:
    kind: ValueKind = ValueKind.STRING
    array: bool = False

    @property
    def is_path(self) -> bool:
        return self.kind in (ValueKind.FILE, ValueKind.DIRECTORY)

    def __str__(self) -> str:
        return f"{self.kind.value}[]" if self.array else self.kind.value


STRING = PortType(ValueKind.STRING)
NUMBER = PortType(ValueKind.NUMBER)
BOOLEAN = PortType(ValueKind.BOOLEAN)
JSON = PortType(ValueKind.JSON)
FILE = PortType(ValueKind.FILE)
DIRECTORY = PortType(ValueKind.DIRECTORY)


@dataclass(frozen=True)
class Port:
    """A typed input or output of a task. A File or Directory port has a ``path``: where the program reads or
    writes it, relative to the workflow's workspace (the backend decides where the workspace is)."""

    name: str
    type: PortType = STRING
    path: str | None = None
    default: str | None = None


# --- conditions: a small expression tree; each backend writes its own syntax -------------------------------------


@dataclass(frozen=True)
class Literal:
    value: str | int | float | bool


Operand = Ref | Literal


@dataclass(frozen=True)
class Compare:
    """``left op right`` with op one of ``== != < <= > >=``, or ``=~``/``!~``: whether the left side's text
    matches (does not match) the regular expression on the right."""

    left: Operand
    op: str
    right: Operand


@dataclass(frozen=True)
class AllOf:
    items: tuple[Cond, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Cond, ...]


@dataclass(frozen=True)
class Not:
    item: Cond


Cond = Compare | AllOf | AnyOf | Not
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


def all_of(*conditions: Cond | None) -> Cond | None:
    """The conjunction of the conditions given (None ones ignored), flattened."""
    items: list[Cond] = []
    for cond in conditions:
        if cond is None:
            continue
        items.extend(cond.items if isinstance(cond, AllOf) else (cond,))
    if not items:
        return None
    return items[0] if len(items) == 1 else AllOf(tuple(items))


def cond_refs(cond: Cond) -> Iterator[Ref]:
    if isinstance(cond, Compare):
        yield from (o for o in (cond.left, cond.right) if not isinstance(o, Literal))
    elif isinstance(cond, Not):
        yield from cond_refs(cond.item)
    else:
        for item in cond.items:
            yield from cond_refs(item)


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
    # Run in the workflow's workspace (where File ports' relative paths resolve), as engines that address files
    # by paths relative to one working folder (Snakemake) do; the backend mounts it and makes it the working dir.
    in_workspace: bool = False


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
    # What the source language does around the call, as Python written by the frontend (the backend knows no
    # engine's semantics): ``driver`` binds ``_am_result`` from ``{call}`` (default: one call); ``writers`` write
    # outputs (``migrator.runtime``), each run only when its output is declared; ``epilogue`` runs last.
    driver: str = ""
    writers: tuple[tuple[str, str], ...] = ()
    epilogue: str = ""


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


@dataclass(frozen=True)
class Stage:
    """The integration pattern's Init and Finalize: ``in`` brings the workflow's raw input files (its output ports,
    each with the repository key it comes from as ``default``) into the workspace; ``out`` keeps the final outputs
    (its input ports, bound by the task's arguments) in the artifact repository when the workflow ends."""

    direction: str  # "in" or "out"


Action = ContainerRun | PythonCall | Noop | Wrapped | Wait | RunWorkflow | AwaitWorkflow | HttpRequest | Resource | Stage


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
    """Requests (what the scheduler reserves) and, where the source gives them, limits."""

    cpu: str | None = None
    memory: str | None = None
    gpu: int | None = None
    ephemeral_storage: str | None = None
    cpu_limit: str | None = None
    memory_limit: str | None = None
    ephemeral_storage_limit: str | None = None


@dataclass(frozen=True)
class Schedule:
    cron: str
    timezone: str | None = None
    catchup: bool = False
    max_active_runs: int | None = None


class LoopMode(enum.Enum):
    """How a loop over several sources combines them (CWL's scatter methods): ``zip`` pairs the i-th items (dot
    product), ``cross`` takes every combination (flat cross product), ``nested`` too, but its results keep one
    level of nesting per source (nested cross product)."""

    ZIP = "zip"
    CROSS = "cross"
    NESTED = "nested"


@dataclass(frozen=True)
class LoopSource:
    """One source of a multi-input loop: literal ``items`` (JSON documents) or a JSON list another task outputs.
    In the loop body, ``ItemRef(name)`` is this source's current item."""

    name: str
    items: tuple[str, ...] | None = None
    over: OutputRef | ParamRef | None = None


@dataclass(frozen=True)
class Loop:
    """A fan-out: over literal ``items`` (each a JSON document) or over the JSON list another task outputs; or, with
    ``sources``, over several of them combined by ``mode``."""

    items: tuple[str, ...] | None = None
    over: OutputRef | None = None
    sources: tuple[LoopSource, ...] = ()
    mode: LoopMode = LoopMode.ZIP

    def refs(self) -> list[OutputRef | ParamRef]:
        found: list[OutputRef | ParamRef] = [self.over] if self.over is not None else []
        return found + [s.over for s in self.sources if s.over is not None]


@dataclass(frozen=True)
class Group:
    """Tasks that belong together (an Airflow TaskGroup, a CWL subworkflow, a Snakemake rule's jobs); ``parent`` nests
    groups. With ``loop``, the group's members run once per item, each item independently of the others, and
    ``ItemRef`` inside a member means the group's item."""

    id: str
    origin: SourceLoc
    label: str | None = None
    parent: str | None = None
    loop: Loop | None = None


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
    outputs: tuple[Port, ...] = ()
    # The typed inputs of the action (the ``InputRef``s it holds) and the values this task passes to them: a
    # definition shared by several tasks is one action with inputs, instantiated with different arguments. An
    # argument that is an ``OutputRef`` is a data edge: that output feeds this input.
    inputs: tuple[Port, ...] = ()
    arguments: tuple[tuple[str, Text], ...] = ()
    resources: Resources | None = None
    retry: Retry | None = None
    timeout_seconds: int | None = None
    join: JoinRule = JoinRule.ALL_SUCCESS
    when: Cond | None = None
    loop: Loop | None = None
    group: str | None = None  # the innermost group the task belongs to
    doc: str | None = None
    # A shared limit on concurrent tasks across workflows (Airflow's pools): its name.
    semaphore: str | None = None
    # Keep going when this task fails: it never fails the workflow (exit handlers, callbacks).
    tolerate_failure: bool = False
    # The source's own ids of the jobs this task runs when it runs several (a Snakemake rule's jobs fanned out:
    # one per item of its loop, or of its looped group; a Snakemake group's jobs in one pod); empty: one, ``id``.
    jobs: tuple[str, ...] = ()

    @property
    def native(self) -> bool:
        return isinstance(self.status, Native)

    def action_reads_outputs(self) -> bool:
        """Whether what the task runs reads other tasks' outputs (rather than only its own arguments)."""
        action = self.action
        if isinstance(action, PythonCall):
            return any(isinstance(a.ref, OutputRef) for a in action.args)
        return any(isinstance(p, OutputRef) for value in (*getattr(action, "command", ()), *getattr(action, "args", ()),
                                                           *(v for _, v in getattr(action, "env", ()))) for p in value)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.outputs)

    def output(self, name: str) -> Port | None:
        return next((p for p in self.outputs if p.name == name), None)

    def input(self, name: str) -> Port | None:
        return next((p for p in self.inputs if p.name == name), None)


def ports(*names: str, type: PortType = STRING) -> tuple[Port, ...]:  # noqa: A002 - the IR's word
    return tuple(Port(n, type) for n in names)


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
    groups: dict[str, Group] = field(default_factory=dict)

    def looped_groups(self, task: Task) -> set[str]:
        """The groups holding ``task`` that loop (the task runs once per item of each)."""
        found: set[str] = set()
        group = task.group
        while group is not None and group in self.groups:
            if self.groups[group].loop is not None:
                found.add(group)
            group = self.groups[group].parent
        return found

    def fanned_for(self, producer: str, consumer: Task | None) -> bool:
        """Whether ``consumer`` sees ``producer``'s outputs as a list (one value per instance): the producer loops,
        or sits in a looped group that does not also hold the consumer."""
        task = self.task(producer)
        if task.loop is not None:
            return True
        return bool(self.looped_groups(task) - (self.looped_groups(consumer) if consumer is not None else set()))

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
        graph = self.graph
        key = {n: (o.path, o.line, o.column, n) for n, o in ((n, graph.nodes[n]["task"].origin) for n in graph)}
        waiting = {n: graph.in_degree(n) for n in graph}
        ready = [key[n] for n, d in waiting.items() if d == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            node = heapq.heappop(ready)[3]
            order.append(node)
            for succ in graph.successors(node):
                waiting[succ] -= 1
                if waiting[succ] == 0:
                    heapq.heappush(ready, key[succ])
        if len(order) < len(waiting):  # a cycle: the invariant check reports it; keep a stable order meanwhile
            order = sorted(graph.nodes, key=key.__getitem__)
        return [graph.nodes[n]["task"] for n in order]

    def upstream(self, task_id: str) -> list[str]:
        return sorted(self.graph.predecessors(task_id))

    def copy(self, **changes: object) -> Workflow:
        """A shallow copy with a copied graph (or the one given), so that a pass edits without touching its input."""
        changes.setdefault("graph", self.graph.copy())
        return replace(self, **changes)  # type: ignore[arg-type]

    def replace_task(self, task: Task) -> None:
        self.graph.nodes[task.id]["task"] = task
