"""DAG drafts → IR workflows: the common arguments (retries, trigger rules, schedule, params) and the registry."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import networkx as nx

from frontends.airflow import jinja
from frontends.airflow import schedule as schedules
from frontends.airflow.dag_builder import Interpretation
from frontends.airflow.evaluator import Scope
from frontends.airflow.model import DagDraft, TaskDraft
from frontends.airflow.operators import BY_NAME, COMMON_ARGS, COSMETIC_ARGS
from frontends.airflow.plugins import plugin_rows
from frontends.airflow.python_source import extract
from frontends.airflow.translate import TranslateContext, Translation, Untranslatable, group_mapping, wrap
from frontends.airflow.translators.kubernetes import executor_resources
from frontends.airflow.translators.python import translate_callback
from frontends.airflow.values import DateTime, Duration, FuncDef, Qual, Unknown, XComArg
from frontends.airflow.wrapping import BOOLEAN_OUTPUTS, FileFacts, run_arguments, wrapped_skips
from migrator.diagnostics import Diagnostic, diag
from migrator.ir import (
    BOOLEAN,
    JSON,
    STRING,
    Compare,
    Cond,
    EdgeKind,
    Group,
    JoinRule,
    Literal,
    Loop,
    OutputRef,
    Parameter,
    Port,
    Resources,
    Retry,
    RunMeta,
    Schedule,
    SourceLoc,
    Task,
    Workflow,
    Wrapped,
    all_of,
)
from migrator.pods import with_defaults

# Operators whose native translation is the pod they describe (not the Airflow worker that launched it).
_OWN_POD = frozenset({"KubernetesPodOperator", "DockerOperator"})
_RULE_ALIASES = {"dummy": "always", "none_failed_or_skipped": "none_failed_min_one_success"}
_AIRFLOW_DEFAULT_RETRY_DELAY = 300
_DAG_ARGS_HANDLED = frozenset({
    "dag_id", "schedule", "schedule_interval", "start_date", "catchup", "default_args", "params", "dagrun_timeout",
    "max_active_runs", "fail_fast", "description", "doc_md", "tags", "owner_links", "dag_display_name",
    "is_paused_upon_creation", "render_template_as_native_obj", "timetable", "max_active_tasks", "concurrency",
    "on_success_callback", "on_failure_callback",
})


class Builder:
    def __init__(self, path: str, info: Interpretation, module_scope: Scope, airflow3: bool,
                 file_facts: FileFacts | None = None) -> None:
        self.path = path
        self.info = info
        self.module_scope = module_scope
        self.airflow3 = airflow3
        self.file_facts = file_facts
        self.scheduled = False  # the DAG being built runs on a schedule (a CronWorkflow)
        self.wrap_producers: set[tuple[str, str]] = set()  # (dag_id, task_id): wrapped for a wrapped reader's sake
        self.diagnostics: list[Diagnostic] = []
        self.param_json: dict[str, bool] = {}  # DAG param → Airflow holds it as JSON rather than a string

    def note(self, code: str, line: int, col: int, message: str) -> None:
        self.diagnostics.append(diag(code, self.path, line, col, message))

    def build(self, draft: DagDraft) -> Workflow | None:
        """The DAG as a workflow. A task that reads an XCom a native translation cannot give (a classic operator's
        pushed keys) is wrapped; then its producer is wrapped too, so that Airflow's own XComs flow between them,
        and the DAG is built again (each round wraps at least one more task, so this ends)."""
        while True:
            wrapped_before = set(self.wrap_producers)
            workflow = self._build_once(draft)
            if self.wrap_producers == wrapped_before:
                return workflow

    def _build_once(self, draft: DagDraft) -> Workflow | None:
        start = len(self.diagnostics)
        origin = SourceLoc(self.path, draft.line, draft.column)
        params = self._params(draft)
        graph = nx.DiGraph()
        graph.add_nodes_from(draft.tasks)
        for up, down, _ in draft.edges:
            if up in draft.tasks and down in draft.tasks:
                graph.add_edge(up, down)
        if not nx.is_directed_acyclic_graph(graph):
            cycle = " >> ".join(u for u, _ in nx.find_cycle(graph))
            self.note("AM105", draft.line, draft.column, f"DAG {draft.dag_id!r} has a dependency cycle: {cycle}")
            return None
        ctx = TranslateContext(
            path=self.path, dag_id=draft.dag_id, file_name=os.path.basename(self.path), airflow3=self.airflow3,
            params={p.name: self.param_json.get(p.name, False) for p in params}, outputs={},
            extract_python=lambda func: extract(func, self.info, self.module_scope),
            consumed_keys=_consumed_keys(draft), file_facts=self.file_facts,
            multiple_outputs=frozenset(t for t, d in draft.tasks.items() if d.kwargs.get("multiple_outputs") is True),
            mapped_group_of={t.task_id: t.mapped_group for t in draft.tasks.values() if t.mapped_group},
        )
        workflow = Workflow(id=draft.dag_id, origin=origin, fail_fast=draft.kwargs.get("fail_fast") is True)
        workflow.description = _str_or_none(draft.kwargs.get("description"))
        workflow.schedule = self._schedule(draft)
        self.scheduled = workflow.schedule is not None
        workflow.timeout_seconds = self._seconds(draft.kwargs.get("dagrun_timeout"), draft.line, draft.column,
                                                 "dagrun_timeout")
        for name, value in sorted(draft.kwargs.items()):
            if name not in _DAG_ARGS_HANDLED and value is not None:
                self.note("AM110", draft.line, draft.column, f"DAG argument {name!r} is not translated")
        gates: dict[str, list[Cond]] = {}
        order = list(nx.lexicographical_topological_sort(
            graph, key=lambda t: (draft.tasks[t].line, draft.tasks[t].column, t)))
        for task_id in order:
            ctx.is_upstream = _upstream_of(graph, task_id)
            ctx.downstream = sorted(graph.successors(task_id))
            task, result = self._task(draft.tasks[task_id], ctx)
            if gates.get(task_id):
                task = replace(task, when=all_of(*gates[task_id]))
            for target, output in result.gates.items():
                condition: Cond = Compare(OutputRef(task_id, output), "==", Literal(True))
                receivers = [target]
                if result.gate_descendants:
                    receivers = sorted(nx.descendants(graph, task_id))
                    output = next(iter(result.gates.values()))
                    condition = Compare(OutputRef(task_id, output), "==", Literal(True))
                for receiver in receivers:
                    gates.setdefault(receiver, [])
                    if condition not in gates[receiver]:
                        gates[receiver].append(condition)
                if result.gate_descendants:
                    break
            for receiver, condition in wrapped_skips(task, draft, graph):
                gates.setdefault(receiver, [])
                if condition not in gates[receiver]:
                    gates[receiver].append(condition)
            if task.outputs:  # only producers: a translator asks about them, never about every task
                ctx.outputs[task_id] = set(task.output_names)
            workflow.add_task(task)
        for up, down, data in draft.edges:
            if up in draft.tasks and down in draft.tasks:
                workflow.add_edge(up, down, EdgeKind.DATA if data else EdgeKind.ORDER)
        self._groups(draft, workflow, ctx)
        workflow.parallelism = self._parallelism(draft)
        workflow.on_exit = self._callbacks(draft, ctx)
        if draft.edge_labels:
            labels = {f"{u} >> {v}": text for (u, v), text in sorted(draft.edge_labels.items())}
            workflow.annotations = (("argo-migrate.io/edge-labels", json.dumps(labels, sort_keys=True)),)
        workflow.parameters = _merge_parameters(params, ctx.parameters)
        workflow.integration = Wrapped("airflow-dag", (("dag_id", draft.dag_id), ("api", "v2" if self.airflow3 else "v1"),
                                                       ("file", os.path.basename(self.path)),
                                                       ("conf_parameter", jinja.DAG_RUN_CONF)))
        workflow.integration_parameters = (Parameter(jinja.DAG_RUN_CONF, "{}", "JSON object: Airflow's dag_run.conf"),)
        if ctx.reads_date and not self.airflow3 and workflow.schedule is not None:
            self.note("AM119", draft.line, draft.column, "Airflow 2 sets the logical date (ds) one schedule interval "
                      "before the run; the migrated workflow uses the run's own start time")
        for key in sorted(set(ctx.secret_variables)):
            self.note("AM121", draft.line, draft.column, f"Airflow Variable {key!r} looks like a credential; it is "
                      f"read from Secret {jinja.VARIABLES_SECRET!r}, key {key!r} (create it), not from the "
                      f"ConfigMap {jinja.VARIABLES_CONFIG_MAP!r}")
        workflow.diagnostics = tuple(self.diagnostics[start:])
        del self.diagnostics[start:]
        return workflow

    # --- tasks -------------------------------------------------------------------------------------------------

    def _task(self, draft: TaskDraft, ctx: TranslateContext) -> tuple[Task, Translation]:
        row = BY_NAME.get(draft.construct) or plugin_rows().get(draft.construct)
        saved = (len(ctx.parameters), len(ctx.secret_variables), ctx.reads_date)
        if draft.splat:
            result = wrap(draft, ctx, "AM109", "operator arguments come from a **kwargs splat")
        elif row is None:
            result = wrap(draft, ctx, "AM102", f"{draft.construct} has no translation yet; it runs with Airflow "
                          "in a pod")
        else:
            try:
                result = row.translate(draft, ctx)
            except Untranslatable as why:
                # A wrapped task runs the original code: what the failed translation asked for is not needed.
                del ctx.parameters[saved[0]:], ctx.secret_variables[saved[1]:]
                ctx.reads_date = saved[2]
                result = wrap(draft, ctx, why.code, why.message)
                if why.producer is not None:
                    self.wrap_producers.add((ctx.dag_id, why.producer))
        if result.status.kind == "native" and (ctx.dag_id, draft.task_id) in self.wrap_producers:
            del ctx.parameters[saved[0]:], ctx.secret_variables[saved[1]:]
            ctx.reads_date = saved[2]
            result = wrap(draft, ctx, "AM117", "a wrapped task reads XComs of this task that a native translation "
                          "does not give; it runs with Airflow, which pushes them")
        resources, executor_config_read = self._resources(draft, result)
        if row is not None and not draft.splat:
            self._unhandled_args(draft, row.handles | ({"executor_config"} if executor_config_read else set()))
        if draft.group_expanded is not None and result.status.kind == "wrapped":
            result = replace(result, notes=(*result.notes, ("AM115", "inside a mapped task group, this wrapped task "
                                                                     "runs without its map index")))
        retry = result.retry or self._retry(draft)
        if isinstance(result.action, Wrapped) and result.action.engine == "airflow-task":
            # The wrapper's WorkflowTemplate retries the task the way Airflow would (not after
            # AirflowFailException); the IR keeps the task's retries all the same.
            result = replace(result, arguments=result.arguments + run_arguments(
                retry, self.scheduled, bool(ctx.params)))
        for code, message in result.notes:
            self.note(code, draft.line, draft.column, f"task {draft.task_id!r}: {message}")
        task = Task(
            id=draft.task_id,
            origin=SourceLoc(self.path, draft.line, draft.column),
            construct=draft.construct,
            action=result.action,
            status=result.status,
            # Flags a task sets for its downstream (a branch decision, a short-circuit) are booleans; what a Python
            # callable returns is JSON, as Airflow serialises XComs.
            outputs=tuple(Port(name, BOOLEAN if name in result.gates.values() or name in BOOLEAN_OUTPUTS else JSON)
                          for name in result.outputs),
            retry=retry,
            timeout_seconds=self._seconds(draft.arg("execution_timeout"), draft.line, draft.column,
                                          "execution_timeout"),
            join=self._join(draft),
            loop=result.loop,
            inputs=tuple(Port(name, STRING) for name, _ in result.arguments),
            arguments=result.arguments,
            resources=resources,
            semaphore=self._pool(draft),
        )
        return task, result

    def _resources(self, draft: TaskDraft, result: Translation) -> tuple[Resources | None, bool]:
        """The translation's resources, ``executor_config`` (the pod Airflow runs the task in) filling what they
        leave out; and whether executor_config was read. It does not apply to an operator translated into the pod
        it describes itself: it sized the Airflow worker that launched that pod."""
        value = draft.arg("executor_config")
        if value is None or (result.status.kind == "native" and draft.construct in _OWN_POD):
            return result.resources, False
        found, notes, read = executor_resources(value)
        for note in notes:
            self.note("AM110", draft.line, draft.column, f"task {draft.task_id!r}: {note}")
        return with_defaults(result.resources, found), read

    def _pool(self, draft: TaskDraft) -> str | None:
        pool = draft.arg("pool")
        if pool is None or pool == "default_pool":
            return None
        if isinstance(pool, str):
            return pool
        self.note("AM103", draft.line, draft.column, f"task {draft.task_id!r}: pool is only known at run time")
        return None

    def _unhandled_args(self, draft: TaskDraft, handles: frozenset[str]) -> None:
        explicit = set(draft.kwargs)
        for name in sorted(explicit - handles - COMMON_ARGS - COSMETIC_ARGS):
            value = draft.kwargs[name]
            if value is None or value is False:
                continue
            self.note("AM110", draft.line, draft.column, f"task {draft.task_id!r}: argument {name!r} is not "
                      "translated")

    def _join(self, draft: TaskDraft) -> JoinRule:
        value = draft.arg("trigger_rule")
        if draft.construct == "@teardown" or draft.kwargs.get("__teardown__"):
            self.note("AM119", draft.line, draft.column, f"task {draft.task_id!r}: a teardown runs when everything "
                      "upstream is done, whether or not its setup succeeded (all_done)")
            return JoinRule.ALL_DONE_SETUP_SUCCESS
        if value is None:
            return JoinRule.ALL_SUCCESS
        if isinstance(value, Qual):
            value = value.last
        if isinstance(value, str):
            name = _RULE_ALIASES.get(value.lower(), value.lower())
            try:
                return JoinRule(name)
            except ValueError:
                pass
        self.note("AM103", draft.line, draft.column, f"task {draft.task_id!r}: trigger_rule {value!r} is not "
                  "known; all_success is used")
        return JoinRule.ALL_SUCCESS

    def _retry(self, draft: TaskDraft) -> Retry | None:
        retries = draft.arg("retries")
        if retries is None:
            return None
        if not isinstance(retries, int) or isinstance(retries, bool):
            self.note("AM103", draft.line, draft.column, f"task {draft.task_id!r}: retries is only known at run time")
            return None
        delay = self._seconds(draft.arg("retry_delay"), draft.line, draft.column, "retry_delay")
        max_delay = self._seconds(draft.arg("max_retry_delay"), draft.line, draft.column, "max_retry_delay")
        exponential = draft.arg("retry_exponential_backoff") is True
        return Retry(
            limit=retries,
            delay_seconds=delay if delay is not None else _AIRFLOW_DEFAULT_RETRY_DELAY,
            backoff_factor=2 if exponential else None,
            max_delay_seconds=max_delay,
        )

    def _seconds(self, value: Any, line: int, col: int, what: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, Duration):
            return int(value.seconds)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
        self.note("AM103", line, col, f"{what} is only known at run time; it is not translated")
        return None

    # --- DAG-level ---------------------------------------------------------------------------------------------

    def _groups(self, draft: DagDraft, workflow: Workflow, ctx: TranslateContext) -> None:
        """TaskGroups become IR groups (innermost per task); a mapped task group's loop is its group's, so that its
        tasks run once per item, each item on its own."""
        members = {g: set(ids) & set(workflow.graph.nodes) for g, ids in draft.groups.items()}
        members = {g: m for g, m in members.items() if m}
        by_size = sorted(members, key=lambda g: (len(members[g]), g))
        parent: dict[str, str | None] = {}
        for g in by_size:
            parent[g] = next((o for o in by_size if o != g and members[g] < members[o]
                              or (o != g and members[g] == members[o] and g.startswith(o + "."))), None)
        loops: dict[str, Loop] = {}
        for task in draft.tasks.values():
            if task.mapped_group and task.mapped_group not in loops and task.task_id in workflow.graph:
                try:
                    found = group_mapping(task, ctx)
                except Untranslatable as why:
                    self.note(why.code, task.line, task.column, f"mapped task group {task.mapped_group!r}: "
                              f"{why.message}")
                    continue
                if found is not None:
                    loops[task.mapped_group] = found.loop
        for g in by_size:
            draft_line = next((draft.tasks[t].line for t in draft.groups[g] if t in draft.tasks), draft.line)
            workflow.groups[g] = Group(g, SourceLoc(self.path, draft_line), label=g, parent=parent[g],
                                       loop=loops.get(g))
        innermost: dict[str, str] = {}
        for g in reversed(by_size):  # larger first, so that the smallest holding a task wins
            for t in members[g]:
                innermost[t] = g
        for t, g in innermost.items():
            workflow.replace_task(replace(workflow.task(t), group=g))

    def _parallelism(self, draft: DagDraft) -> int | None:
        value = draft.kwargs.get("max_active_tasks", draft.kwargs.get("concurrency"))
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        self.note("AM103", draft.line, draft.column, "max_active_tasks is only known at run time")
        return None

    def _callbacks(self, draft: DagDraft, ctx: TranslateContext) -> tuple[Task, ...]:
        """DAG callbacks run in the exit handler, each only for the outcome it is for."""
        tasks: list[Task] = []
        for name, op in (("on_success_callback", "=="), ("on_failure_callback", "!=")):
            value = draft.kwargs.get(name)
            if value is None:
                continue
            funcs = value if isinstance(value, list) else [value]
            for i, func in enumerate(funcs):
                task_id = f"{name}_{i}" if len(funcs) > 1 else name
                if not isinstance(func, FuncDef):
                    self.note("AM112", draft.line, draft.column, f"{name} is not a function of this file; it is "
                              "not migrated")
                    continue
                try:
                    call = translate_callback(func, task_id, ctx)
                except Untranslatable as why:
                    self.note(why.code, draft.line, draft.column, f"{name}: {why.message}; it is not migrated")
                    continue
                tasks.append(Task(
                    id=task_id, origin=SourceLoc(self.path, draft.line, draft.column), construct=name, action=call,
                    when=Compare(RunMeta("status"), op, Literal("Succeeded")), tolerate_failure=True,
                ))
        return tuple(tasks)

    def _params(self, draft: DagDraft) -> tuple[Parameter, ...]:
        raw = draft.kwargs.get("params")
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            self.note("AM103", draft.line, draft.column, "params are only known at run time")
            return ()
        out: list[Parameter] = []
        for name in raw:
            value, description = raw[name], None
            if isinstance(value, dict) and value.get("__param__"):
                description = _str_or_none(value.get("description"))
                value = value.get("default")
            default = _param_text(value)
            if default is None:
                self.note("AM103", draft.line, draft.column, f"param {name!r} has a default only known at run time")
                default = ""
            out.append(Parameter(str(name), default, description))
            self.param_json[str(name)] = not isinstance(value, str)
        return tuple(out)

    def _schedule(self, draft: DagDraft) -> Schedule | None:
        kwargs = draft.kwargs
        key = "schedule" if "schedule" in kwargs else "schedule_interval" if "schedule_interval" in kwargs else None
        if key is None:
            if "timetable" in kwargs:
                self.note("AM108", draft.line, draft.column, "a timetable schedule is not translated yet")
            elif not self.airflow3:
                self.note("AM108", draft.line, draft.column, "no schedule given: Airflow 2 runs such a DAG daily, "
                          "Airflow 3 never; no CronWorkflow is made (set schedule explicitly)")
            return None
        value = kwargs[key]
        if isinstance(value, Unknown):
            self.note("AM108", draft.line, draft.column, f"{key} is only known at run time")
            return None
        start = kwargs.get("start_date", draft.default_args.get("start_date"))
        result = schedules.translate(value, start if isinstance(start, DateTime) else None)
        if result.problem:
            self.note("AM108", draft.line, draft.column, result.problem)
        if result.cron is None:
            return None
        timezone = start.timezone if isinstance(start, DateTime) else None
        if kwargs.get("catchup") is True:
            self.note("AM114", draft.line, draft.column, "catchup=True: missed runs are not backfilled by a "
                      "CronWorkflow")
        max_runs = kwargs.get("max_active_runs")
        return Schedule(result.cron, timezone, kwargs.get("catchup") is True,
                        max_runs if isinstance(max_runs, int) else None)


def _merge_parameters(declared: tuple[Parameter, ...], needed: list[Parameter]) -> tuple[Parameter, ...]:
    out = {p.name: p for p in declared}
    for p in needed:
        out.setdefault(p.name, p)
    return tuple(out.values())


def _upstream_of(graph: nx.DiGraph, task_id: str) -> Callable[[str], bool]:
    """A membership test for the ancestors of ``task_id``, computed on first use."""
    found: list[set[str]] = []

    def test(other: str) -> bool:
        if not found:
            found.append(nx.ancestors(graph, task_id))
        return other in found[0]

    return test


_XCOM_KEY = re.compile(r"xcom_pull\(\s*(?:task_ids\s*=\s*)?['\"]([^'\"]+)['\"]\s*,\s*key\s*=\s*['\"]([^'\"]+)['\"]")


def _consumed_keys(draft: DagDraft) -> dict[str, set[str]]:
    """XCom keys other than return_value that some task reads: their producers declare them as outputs."""
    found: dict[str, set[str]] = {}

    def walk(value: Any) -> None:
        if isinstance(value, XComArg):
            found.setdefault(value.task_id, set()).add(value.key)
        elif isinstance(value, str):
            for task_id, key in _XCOM_KEY.findall(value):
                found.setdefault(task_id, set()).add(key)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    for task in draft.tasks.values():
        walk(task.kwargs)
        walk([v for _, v in task.call_args])
        walk(task.expanded or {})
    return found


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _param_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    try:
        return json.dumps(value, sort_keys=True)
    except TypeError:
        return None


__all__ = ["Builder", "FuncDef"]
