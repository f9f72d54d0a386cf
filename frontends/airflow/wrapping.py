"""How an Airflow task that stays on Airflow is called: the ``airflow-task`` wrapper's payload and arguments.

The wrapper (``backends/wrappers/airflow_task.py``) runs the task's own operator in a pod with the Airflow of the
source's major version. What it needs from the DAG file, found here statically:

- **the major version**, by the table :data:`EVIDENCE` over the file's imports and DAG arguments (see
  :func:`airflow_major`), with the reason the report prints;
- **upstream XComs**: every upstream task that declares outputs passes them in the ``xcom`` argument, a JSON object
  ``{task_id: {key: value}}`` whose values are the producers' output parameters (JSON text, as Airflow serialises
  XComs), so ``ti.xcom_pull`` and TaskFlow arguments see what Airflow would;
- **Connections and Variables** the task names (``*_conn_id`` arguments; ``Variable.get("…")`` and
  ``{{ var.value.… }}`` anywhere in the file): each becomes an environment variable of Airflow's own
  environment-variable backends (``AIRFLOW_CONN_<ID>``, ``AIRFLOW_VAR_<KEY>``) read from a Secret — one Secret per
  connection id, ``airflow-conn-<id>`` with key ``uri`` — or, for a Variable whose name is not a credential's, from
  the Variables ConfigMap. They reach the pod through the ``pod-spec-patch`` argument. A Connection or Variable the
  code names only at run time (a computed id) is not seen; the report says that the list is what the file shows.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass

import networkx as nx

from frontends.airflow import jinja
from frontends.airflow.model import DagDraft, TaskDraft
from migrator.ir import Compare, Cond, JoinRule, Literal, OutputRef, Retry, Task, Text, Wrapped, WrappedStatus
from migrator.secrets import sensitive_name

ENGINE = "airflow-task"
CONNECTION_SECRET = "airflow-conn-{}"  # one Secret per Airflow connection id, key "uri"


@dataclass(frozen=True)
class Evidence:
    major: int
    why: str


# What ties a DAG file to one Airflow major: an import prefix or a DAG() keyword → (major, why). Airflow 3 refuses
# the Airflow-2-only spellings at parse time, so any of them decides for 2.
EVIDENCE_IMPORTS: dict[str, Evidence] = {
    "airflow.sdk": Evidence(3, "imports airflow.sdk, Airflow 3's task SDK"),
    "airflow.providers.standard": Evidence(3, "imports the standard provider (operators moved there in Airflow 3)"),
    "airflow.operators.bash": Evidence(2, "imports airflow.operators.bash, removed in Airflow 3"),
    "airflow.operators.python": Evidence(2, "imports airflow.operators.python, removed in Airflow 3"),
    "airflow.operators.dummy": Evidence(2, "imports airflow.operators.dummy, removed in Airflow 3"),
    "airflow.operators.empty": Evidence(2, "imports airflow.operators.empty, removed in Airflow 3"),
    "airflow.operators.trigger_dagrun": Evidence(2, "imports airflow.operators.trigger_dagrun, removed in Airflow 3"),
    "airflow.sensors.external_task": Evidence(2, "imports airflow.sensors.external_task, removed in Airflow 3"),
    "airflow.utils.dates": Evidence(2, "imports airflow.utils.dates (days_ago), removed in Airflow 3"),
    "airflow.datasets": Evidence(2, "imports airflow.datasets (Assets in Airflow 3)"),
    "airflow.contrib": Evidence(2, "imports airflow.contrib, removed in Airflow 2's successors"),
}
EVIDENCE_DAG_ARGUMENTS: dict[str, Evidence] = {
    "schedule_interval": Evidence(2, "passes DAG(schedule_interval=…), which Airflow 3 rejects"),
    "timetable": Evidence(2, "passes DAG(timetable=…), which Airflow 3 rejects"),
    "concurrency": Evidence(2, "passes DAG(concurrency=…), which Airflow 3 rejects"),
    "full_filepath": Evidence(2, "passes DAG(full_filepath=…), which Airflow 3 rejects"),
}
DEFAULT = Evidence(3, "nothing in the file ties it to a major version; the current one is used")


@dataclass(frozen=True)
class Major:
    major: int
    why: str  # with the line that decided it


def airflow_major(tree: ast.Module) -> Major:
    """Airflow 2 when the file uses something Airflow 3 refuses (first such line); else 3, saying why."""
    found: list[tuple[int, Evidence]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.Call) and _called(node) in ("DAG", "dag"):
            found += [(node.lineno, EVIDENCE_DAG_ARGUMENTS[k.arg]) for k in node.keywords
                      if k.arg in EVIDENCE_DAG_ARGUMENTS]
            continue
        else:
            continue
        for name in modules:
            for prefix, evidence in EVIDENCE_IMPORTS.items():
                if name == prefix or name.startswith(prefix + "."):
                    found.append((node.lineno, evidence))
    found.sort(key=lambda f: (f[0], f[1].major))
    for major in (2, 3):
        first = next(((line, e) for line, e in found if e.major == major), None)
        if first is not None:
            return Major(major, f"line {first[0]} {first[1].why}")
    return Major(DEFAULT.major, DEFAULT.why)


def _called(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


_VAR_JINJA = re.compile(r"\bvar\.(?:value|json)\.([A-Za-z_][A-Za-z0-9_]*)")


def variables_named(tree: ast.Module) -> list[str]:
    """Variable keys the file names literally: ``Variable.get("k")`` and ``{{ var.value.k }}`` in strings."""
    keys: set[str] = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "Variable" and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            keys.add(node.args[0].value)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "var." in node.value:
            keys.update(_VAR_JINJA.findall(node.value))
    return sorted(keys)


def connections_named(task: TaskDraft) -> list[str]:
    """Connection ids the task's arguments give literally (``postgres_conn_id="warehouse"``)."""
    found = {v for k, v in task.kwargs.items() if k.endswith("conn_id") and isinstance(v, str) and v}
    return sorted(found)


def env_name(prefix: str, key: str) -> str:
    """The variable Airflow's environment backends read: ``AIRFLOW_CONN_`` + the id upper-cased."""
    return prefix + key.upper()


def pod_spec_patch(connections: list[str], variables: list[str]) -> str:
    env: list[dict[str, object]] = []
    for conn in connections:
        env.append({"name": env_name("AIRFLOW_CONN_", conn),
                    "valueFrom": {"secretKeyRef": {"name": connection_secret(conn), "key": "uri"}}})
    for key in variables:
        if sensitive_name(key):
            ref: dict[str, object] = {"secretKeyRef": {"name": jinja.VARIABLES_SECRET, "key": key, "optional": True}}
        else:
            ref = {"configMapKeyRef": {"name": jinja.VARIABLES_CONFIG_MAP, "key": key, "optional": True}}
        env.append({"name": env_name("AIRFLOW_VAR_", key), "valueFrom": ref})
    if not env:
        return "{}"
    return json.dumps({"containers": [{"name": "main", "env": env}]}, sort_keys=True, separators=(",", ":"))


def connection_secret(conn_id: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", conn_id.lower()).strip("-") or "default"
    return CONNECTION_SECRET.format(slug)[:253]


XCOM_OUTPUT = "xcom"  # a wrapped task's output holding every XCom it pushed, as one JSON object
SKIPPED_OUTPUT = "skipped"  # "true" when the task raised AirflowSkipException
SKIP_TASKS_OUTPUT = "skip-tasks"  # JSON list of the task ids a branch or short-circuit decided to skip
OUTPUTS = ("return_value", XCOM_OUTPUT, SKIPPED_OUTPUT, SKIP_TASKS_OUTPUT)
BOOLEAN_OUTPUTS = frozenset({SKIPPED_OUTPUT})

# Operators that skip other tasks (Airflow's SkipMixin: branches and short-circuits). A wrapped one names what it
# skipped in ``skip-tasks``; every descendant is gated on not being named there.
SKIPPING_CONSTRUCTS = re.compile(r"Branch|ShortCircuit|^@task\.(branch|short_circuit)")


MULTIPLE_OUTPUTS_KEY = "__multiple_outputs__"


def xcom_argument(upstream: dict[str, set[str]], multiple: frozenset[str] = frozenset()) -> Text:
    """``{"t": {"return_value": <t's output>}, …}``: the producers' outputs are JSON text, embedded as they are; a
    wrapped producer passes its whole ``xcom`` object (every key it pushed). Producers with ``multiple_outputs``
    are listed under ``__multiple_outputs__``: Airflow pushes each key of their returned dict as an XCom too."""
    parts: list[str | OutputRef] = ["{"]
    listed = sorted(t for t in upstream if t in multiple)
    if listed:
        parts.append(json.dumps(MULTIPLE_OUTPUTS_KEY) + ":" + json.dumps(listed) + ("," if upstream else ""))
    for i, task_id in enumerate(sorted(upstream)):
        parts.append(("," if i else "") + json.dumps(task_id) + ":")
        if XCOM_OUTPUT in upstream[task_id]:
            parts.append(OutputRef(task_id, XCOM_OUTPUT))
            continue
        parts.append("{")
        for j, key in enumerate(sorted(upstream[task_id])):
            parts += [("," if j else "") + json.dumps(key) + ":", OutputRef(task_id, key)]
        parts.append("}")
    parts.append("}")
    merged: list[str | OutputRef] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    return tuple(merged)


@dataclass(frozen=True)
class FileFacts:
    """What every wrapped task of one file shares."""

    file: str
    major: Major
    variables: tuple[str, ...]


def wrapped(task: TaskDraft, dag_id: str, facts: FileFacts, upstream: dict[str, set[str]], reason: str,
            multiple: frozenset[str] = frozenset()) -> tuple[Wrapped, WrappedStatus, tuple[tuple[str, Text], ...]]:
    connections = connections_named(task)
    payload = (("dag_id", dag_id), ("task_id", task.task_id), ("file", facts.file), ("major", str(facts.major.major)),
               ("major_why", facts.major.why),
               ("connections", ",".join(connections)), ("variables", ",".join(facts.variables)))
    arguments: tuple[tuple[str, Text], ...] = (
        ("xcom", xcom_argument(upstream, multiple)),
        ("pod-spec-patch", (pod_spec_patch(connections, list(facts.variables)),)),
    )
    return Wrapped(ENGINE, payload), WrappedStatus(ENGINE, reason), arguments


def wrapped_skips(task: Task, draft: DagDraft, graph: nx.DiGraph) -> list[tuple[str, Cond]]:
    """The conditions a wrapped task puts on others, as Airflow's skips would: a task that skipped itself (any
    instance of a mapped one) skips its direct downstream tasks that wait for all upstreams to succeed (they then cascade as Airflow's do, through
    ``depends``); a branch or short-circuit skips exactly the descendants it names in ``skip-tasks``."""
    action = task.action
    if not isinstance(action, Wrapped) or action.engine != ENGINE:
        return []
    found: list[tuple[str, Cond]] = []
    for down in sorted(graph.successors(task.id)):
        rule = draft.tasks[down].kwargs.get("trigger_rule") if down in draft.tasks else None
        if rule is None or str(getattr(rule, "last", rule)).lower() == JoinRule.ALL_SUCCESS.value:
            # A regular expression, not `== false`: a mapped task's output is the list of its instances' values,
            # and one skipped instance skips an all_success downstream, as in Airflow.
            found.append((down, Compare(OutputRef(task.id, SKIPPED_OUTPUT), "!~", Literal("true"))))
    if SKIPPING_CONSTRUCTS.search(task.construct or ""):
        for down in sorted(nx.descendants(graph, task.id)):
            # A regular expression over the JSON list: the id in quotes (Airflow ids are [A-Za-z0-9_.-]), dots literal.
            pattern = '"' + down.replace(".", "[.]") + '"'
            found.append((down, Compare(OutputRef(task.id, SKIP_TASKS_OUTPUT), "!~", Literal(pattern))))
    return found


def run_arguments(retry: Retry | None, scheduled: bool, has_params: bool) -> tuple[tuple[str, Text], ...]:
    """What the run gives the wrapped task: its retries (the wrapper retries as Airflow would), a scheduled run's
    date (the CronWorkflow's scheduled time: Airflow's logical date and data interval follow from it), and the DAG
    params, which are the workflow's parameters (Argo's JSON list of them; the wrapper keeps the DAG's own)."""
    out: list[tuple[str, Text]] = []
    if retry is not None and retry.limit > 0:
        out += [("retries", (str(retry.limit),)), ("retry-delay", (str(retry.delay_seconds or 0),))]
    if scheduled:
        out += [("logical-date", ("{{workflow.scheduledTime}}",)), ("run-type", ("scheduled",))]
    if has_params:
        out.append(("params", ("{{workflow.parameters.json}}",)))
    return tuple(out)
