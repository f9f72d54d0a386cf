"""DAG drafts → IR workflows: the common arguments (retries, trigger rules, schedule, params) and the registry."""

from __future__ import annotations

import json
import os
from typing import Any

import networkx as nx

from frontends.airflow import schedule as schedules
from frontends.airflow.interpreter import Interpretation, Scope
from frontends.airflow.model import DagDraft, TaskDraft
from frontends.airflow.operators import (
    BY_NAME,
    COMMON_ARGS,
    COSMETIC_ARGS,
    TranslateContext,
    Translation,
    Untranslatable,
    wrap,
)
from frontends.airflow.python_source import extract
from frontends.airflow.values import DateTime, Duration, FuncDef, Qual, Unknown
from migrator.diagnostics import Diagnostic, diag
from migrator.ir import EdgeKind, JoinRule, Parameter, Retry, Schedule, SourceLoc, Task, Workflow

_RULE_ALIASES = {"dummy": "always", "none_failed_or_skipped": "none_failed_min_one_success"}
_AIRFLOW_DEFAULT_RETRY_DELAY = 300
_DAG_ARGS_HANDLED = frozenset({
    "dag_id", "schedule", "schedule_interval", "start_date", "catchup", "default_args", "params", "dagrun_timeout",
    "max_active_runs", "fail_fast", "description", "doc_md", "tags", "end_date", "owner_links", "dag_display_name",
    "is_paused_upon_creation", "render_template_as_native_obj", "timetable",
})


class Builder:
    def __init__(self, path: str, info: Interpretation, module_scope: Scope, airflow3: bool) -> None:
        self.path = path
        self.info = info
        self.module_scope = module_scope
        self.airflow3 = airflow3
        self.diagnostics: list[Diagnostic] = []

    def note(self, code: str, line: int, col: int, message: str) -> None:
        self.diagnostics.append(diag(code, self.path, line, col, message))

    def build(self, draft: DagDraft) -> Workflow | None:
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
            path=self.path, dag_id=draft.dag_id, params={p.name for p in params}, python_tasks=set(),
            extract_python=lambda func: extract(func, self.info, self.module_scope),
            file_name=os.path.basename(self.path),
        )
        workflow = Workflow(id=draft.dag_id, origin=origin, parameters=params, fail_fast=bool(
            draft.kwargs.get("fail_fast") is True))
        workflow.description = _str_or_none(draft.kwargs.get("description"))
        workflow.schedule = self._schedule(draft)
        workflow.timeout_seconds = self._seconds(draft.kwargs.get("dagrun_timeout"), draft.line, draft.column,
                                                 "dagrun_timeout")
        for name, value in sorted(draft.kwargs.items()):
            if name not in _DAG_ARGS_HANDLED and value is not None:
                self.note("AM110", draft.line, draft.column, f"DAG argument {name!r} is not translated")
        for task_id in nx.topological_sort(graph):
            task = self._task(draft.tasks[task_id], ctx)
            if task.outputs:
                ctx.python_tasks.add(task.id)
            workflow.add_task(task)
        for up, down, data in draft.edges:
            if up in draft.tasks and down in draft.tasks:
                workflow.add_edge(up, down, EdgeKind.DATA if data else EdgeKind.ORDER)
        workflow.diagnostics = tuple(self.diagnostics[start:])
        del self.diagnostics[start:]
        return workflow

    # --- tasks -------------------------------------------------------------------------------------------------

    def _task(self, draft: TaskDraft, ctx: TranslateContext) -> Task:
        row = BY_NAME.get(draft.construct)
        if draft.splat:
            result = wrap(draft, ctx, "AM109", "operator arguments come from a **kwargs splat")
        elif draft.mapped:
            result = wrap(draft, ctx, "AM115", "dynamic task mapping (.partial/.expand) is not translated yet")
        elif row is None:
            result = wrap(draft, ctx, "AM102", f"{draft.construct} has no translation yet; it runs with Airflow "
                          "in a pod")
        else:
            try:
                result = row.translate(draft, ctx)
            except Untranslatable as why:
                result = wrap(draft, ctx, why.code, why.message)
            self._unhandled_args(draft, row.handles)
        for code, message in result.notes:
            self.note(code, draft.line, draft.column, f"task {draft.task_id!r}: {message}")
        return Task(
            id=draft.task_id,
            origin=SourceLoc(self.path, draft.line, draft.column),
            construct=draft.construct,
            action=result.action,
            status=result.status,
            outputs=result.outputs,
            retry=self._retry(draft),
            timeout_seconds=self._seconds(draft.arg("execution_timeout"), draft.line, draft.column,
                                          "execution_timeout"),
            join=self._join(draft),
        )

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
        result = schedules.translate(value)
        if result.problem:
            self.note("AM108", draft.line, draft.column, result.problem)
        if result.cron is None:
            return None
        start = kwargs.get("start_date", draft.default_args.get("start_date"))
        timezone = start.timezone if isinstance(start, DateTime) else None
        if kwargs.get("catchup") is True:
            self.note("AM114", draft.line, draft.column, "catchup=True: missed runs are not backfilled by a "
                      "CronWorkflow")
        max_runs = kwargs.get("max_active_runs")
        return Schedule(result.cron, timezone, kwargs.get("catchup") is True,
                        max_runs if isinstance(max_runs, int) else None)


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


__all__ = ["Builder", "FuncDef", "Translation"]
