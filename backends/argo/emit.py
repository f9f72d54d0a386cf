"""IR workflow → one Argo manifest (Workflow, WorkflowTemplate or CronWorkflow) built with Hera."""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hera.workflows import DAG, CronWorkflow, Parameter, Workflow, WorkflowTemplate
from hera.workflows import Task as HeraTask
from hera.workflows import models as m

from backends.argo.depends import Upstream, condition
from backends.argo.names import Namer, dns_label, parameter_name
from backends.argo.templates import BuildContext, Images, build_template, run_meta
from backends.wrappers import WrapperOptions
from migrator import ir
from migrator.diagnostics import Diagnostic, diag

SOURCE_ANNOTATION = "argo-migrate.io/source"
SOURCE_ID_ANNOTATION = "argo-migrate.io/source-id"
ENTRYPOINT = "main"


class Kind(enum.Enum):
    AUTO = "auto"
    WORKFLOW = "workflow"
    WORKFLOW_TEMPLATE = "workflow-template"
    CRON_WORKFLOW = "cron-workflow"


# Argo's limits (validate.go): names of Workflows ≤63, of CronWorkflows ≤52 (it appends a timestamp suffix).
MAX_NAME = {"Workflow": 63, "WorkflowTemplate": 63, "CronWorkflow": 52}
MAX_DAG_TASKS = 200


@dataclass(frozen=True)
class EmitOptions:
    kind: Kind = Kind.AUTO
    images: Images = field(default_factory=Images)
    wrappers: WrapperOptions = field(default_factory=WrapperOptions)


@dataclass(frozen=True)
class TaskMapping:
    source_id: str
    task: str
    template: str
    line: int
    status: str
    engine: str | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"source_id": self.source_id, "task": self.task, "template": self.template, "line": self.line,
                "status": self.status, "engine": self.engine, "reason": self.reason}


@dataclass
class Manifest:
    kind: str
    name: str
    document: dict[str, Any]
    tasks: list[TaskMapping]
    diagnostics: list[Diagnostic]


def choose_kind(workflow: ir.Workflow, requested: Kind) -> tuple[str, Diagnostic | None]:
    if requested is Kind.AUTO:
        return ("CronWorkflow" if workflow.schedule else "WorkflowTemplate"), None
    if requested is Kind.CRON_WORKFLOW and workflow.schedule is None:
        o = workflow.origin
        return "WorkflowTemplate", diag("AM116", o.path, o.line, o.column,
                                        f"DAG {workflow.id!r} has no cron schedule; wrote a WorkflowTemplate")
    return {Kind.WORKFLOW: "Workflow", Kind.WORKFLOW_TEMPLATE: "WorkflowTemplate",
            Kind.CRON_WORKFLOW: "CronWorkflow"}[requested], None


def emit(workflow: ir.Workflow, name: str, options: EmitOptions) -> Manifest:
    """``name`` is the manifest name the caller has made unique across the batch."""
    kind, kind_note = choose_kind(workflow, options.kind)
    diagnostics = [kind_note] if kind_note else []
    tasks = workflow.tasks()

    task_names = Namer(max_len=128, fallback="t")
    task_name = {t.id: task_names.take(t.id) for t in tasks}
    template_names = Namer(reserved=(ENTRYPOINT,), max_len=128, fallback="t")
    ctx = BuildContext(options.images, options.wrappers, task_name.__getitem__, {t.id for t in tasks if t.loop})

    templates: list[Any] = []
    by_shape: dict[str, str] = {}
    may_skip: dict[str, bool] = {}
    dag_tasks: list[HeraTask | m.DAGTask] = []
    mapping: list[TaskMapping] = []
    for task in tasks:
        tname = task_name[task.id]
        template, parts = build_template(task, "placeholder", ctx)
        shape = json.dumps(template._build_template().model_dump(exclude_none=True, by_alias=True), sort_keys=True)
        if shape not in by_shape:
            by_shape[shape] = template_names.take(_template_hint(task, tname))
            template.name = by_shape[shape]
            templates.append(template)
        template_name = by_shape[shape]

        ups = [Upstream(task_name[u], may_skip[u]) for u in workflow.upstream(task.id)]
        cond = condition(task.join, ups)
        when = cond.when
        if task.when is not None:
            own = dag_level(task.when, task_name.__getitem__)
            when = f"({when}) && ({own})" if when else own
        may_skip[task.id] = when is not None
        loop = task.loop
        dag_tasks.append(HeraTask(
            name=tname,
            template=template_name,
            depends=cond.depends,
            when=when,
            arguments=[Parameter(name=k, value=v) for k, v in parts.inputs.items()] or None,
            with_items=[json.loads(item) for item in loop.items] if loop and loop.items is not None else None,
            with_param=dag_level((loop.over,), task_name.__getitem__) if loop and loop.over else None,
        ))
        status = task.status
        mapping.append(TaskMapping(
            source_id=task.id, task=tname, template=template_name, line=task.origin.line, status=status.kind,
            engine=getattr(status, "engine", None), reason=getattr(status, "reason", None),
        ))

    if len(dag_tasks) > MAX_DAG_TASKS:
        o = workflow.origin
        diagnostics.append(diag("AM401", o.path, o.line, o.column,
                                f"{len(dag_tasks)} tasks in one DAG template; Argo allows {MAX_DAG_TASKS}"))
    dag = DAG(name=ENTRYPOINT, tasks=dag_tasks, fail_fast=workflow.fail_fast)
    exit_name, exit_templates = _exit_handler(workflow, ctx, template_names)
    document = _wrap(kind, name, workflow, [dag, *templates, *exit_templates], exit_name)
    return Manifest(kind, name, document, mapping, diagnostics)


EXIT_HANDLER = "exit-handler"


def _exit_handler(workflow: ir.Workflow, ctx: BuildContext, names: Namer) -> tuple[str | None, list[Any]]:
    """Tasks that run when the workflow ends (callbacks); they never change the workflow's phase."""
    if not workflow.on_exit:
        return None, []
    task_names = Namer(max_len=128, fallback="t")
    templates: list[Any] = []
    tasks: list[HeraTask | m.DAGTask] = []
    for task in workflow.on_exit:
        tname = task_names.take(task.id)
        template, parts = build_template(task, names.take(f"{tname}"), ctx)
        templates.append(template)
        tasks.append(HeraTask(
            name=tname, template=template.name, when=dag_level(task.when, ctx.task_name_of) if task.when else None,
            arguments=[Parameter(name=k, value=v) for k, v in parts.inputs.items()] or None,
            # Airflow's callbacks do not change the run's state; a failing exit handler would (§2.4).
            continue_on=m.ContinueOn(failed=True, error=True) if task.tolerate_failure else None,
        ))
    exit_name = names.take(EXIT_HANDLER)
    return exit_name, [DAG(name=exit_name, tasks=tasks, fail_fast=False), *templates]


def dag_level(value: ir.Text, task_name_of: Callable[[str], str]) -> str:
    """Render text used in a DAG task's own fields, where ``{{tasks.…}}`` and ``{{item}}`` are in scope."""
    out: list[str] = []
    for part in value:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, ir.OutputRef):
            out.append("{{tasks.%s.outputs.parameters.%s}}" % (task_name_of(part.task_id), parameter_name(part.name)))
        elif isinstance(part, ir.ItemRef):
            out.append("{{item}}" if part.key is None else "{{item.%s}}" % part.key)
        elif isinstance(part, ir.ParamRef):
            out.append("{{workflow.parameters.%s}}" % parameter_name(part.name))
        elif isinstance(part, ir.RunMeta):
            out.append(run_meta(part))
        else:
            raise ValueError(f"{type(part).__name__} cannot be used in a DAG task field")
    return "".join(out)


def _template_hint(task: ir.Task, task_name: str) -> str:
    if isinstance(task.action, ir.Noop):
        return "noop"
    return task_name


def _wrap(kind: str, name: str, workflow: ir.Workflow, templates: list[Any], exit_dag: str | None) -> dict[str, Any]:
    annotations = {SOURCE_ANNOTATION: f"{workflow.origin.path}:{workflow.origin.line}",
                   SOURCE_ID_ANNOTATION: workflow.id}
    arguments = [_parameter(p) for p in workflow.parameters] or None
    annotations.update(dict(workflow.annotations))
    common: dict[str, Any] = dict(
        entrypoint=ENTRYPOINT, templates=templates, annotations=annotations, arguments=arguments,
        active_deadline_seconds=workflow.timeout_seconds,
        labels=dict(workflow.labels) or None,
        parallelism=workflow.parallelism,
        on_exit=exit_dag,
    )
    if kind == "Workflow":
        return Workflow(generate_name=f"{name}-", **common).to_dict()
    if kind == "WorkflowTemplate":
        return WorkflowTemplate(name=name, **common).to_dict()
    schedule = workflow.schedule
    assert schedule is not None
    cron = CronWorkflow(
        name=name, schedules=[schedule.cron], timezone=schedule.timezone,
        concurrency_policy="Forbid" if schedule.max_active_runs == 1 else None,
        **common,
    )
    return cron.to_dict()


def _parameter(p: ir.Parameter) -> Parameter:
    if p.config_map is not None:
        source = m.ValueFrom(config_map_key_ref=m.ConfigMapKeySelector(name=p.config_map[0], key=p.config_map[1]))
        return Parameter(name=parameter_name(p.name), value_from=source, description=p.description)
    return Parameter(name=parameter_name(p.name), value=p.default, description=p.description)


def manifest_name(workflow: ir.Workflow, kind: str) -> str:
    return dns_label(workflow.id, MAX_NAME[kind])
