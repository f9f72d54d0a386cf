"""IR workflow → one Argo manifest (Workflow, WorkflowTemplate or CronWorkflow) built with Hera."""

from __future__ import annotations

import enum
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from hera.workflows import DAG, Artifact, CronWorkflow, Parameter, Workflow, WorkflowTemplate
from hera.workflows import Task as HeraTask
from hera.workflows import models as m

from backends.argo.conditions import render as render_condition
from backends.argo.depends import Upstream, condition, done
from backends.argo.layout import ROOT, Layout, Node, plan
from backends.argo.names import Namer, dns_label, parameter_name
from backends.argo.parts import split as split_parts
from backends.argo.storage import StorageOptions, path_arguments, path_of, uses_files
from backends.argo.storage import claim as storage_claim
from backends.argo.templates import BuildContext, Images, TemplateParts, build_template, run_meta
from backends.wrappers import WrapperOptions
from backends.wrappers.catalogue import WrapperCalls
from migrator import ir
from migrator.diagnostics import Diagnostic, diag
from migrator.pods import PodOptions

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
    max_dag_tasks: int = MAX_DAG_TASKS  # tests compare a nested layout with the flat one (a larger limit)
    storage: StorageOptions = field(default_factory=StorageOptions)
    pods: PodOptions = field(default_factory=PodOptions)  # --default-resources, --queue, --gpu-toleration


@dataclass(frozen=True)
class TaskMapping:
    source_id: str
    task: str
    template: str
    line: int
    status: str
    engine: str | None = None
    reason: str | None = None
    item: int | None = None  # the job's index among those the task runs (a fan-out's item); None: one job

    def to_json(self) -> dict[str, Any]:
        return {"source_id": self.source_id, "task": self.task, "template": self.template, "line": self.line,
                "status": self.status, "engine": self.engine, "reason": self.reason, "item": self.item}


@dataclass
class Manifest:
    kind: str
    name: str
    document: dict[str, Any]
    tasks: list[TaskMapping]
    diagnostics: list[Diagnostic]
    parts: list[dict[str, Any]] = field(default_factory=list)  # WorkflowTemplates the document calls (same file)
    wrappers: list[dict[str, Any]] = field(default_factory=list)  # the catalogue's WorkflowTemplates it calls
    needs: list[str] = field(default_factory=list)  # Secrets and ConfigMaps the wrapped tasks read


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
    task_names = Namer(reserved=(ENTRYPOINT,), max_len=128, fallback="t")
    task_name = {t.id: task_names.take(t.id) for t in tasks}
    template_names = Namer(reserved=(ENTRYPOINT,), max_len=128, fallback="t")
    ctx = BuildContext(options.images, options.wrappers, task_name.__getitem__, storage=options.storage,
                       fanned_for=workflow.fanned_for, pods=options.pods)

    leaves = _LeafTemplates(ctx, template_names, options)
    layout = plan(
        [t.id for t in tasks],
        {t.id: Node(workflow.upstream(t.id), _plain(t), t.group, _group_path(workflow, t.group)) for t in tasks},
        options.max_dag_tasks,
        force_groups=[g for g, group in workflow.groups.items() if group.loop is not None],
    )
    if layout.approximate:
        o = workflow.origin
        diagnostics.append(diag("AM119", o.path, o.line, o.column, (
            f"{len(tasks)} tasks are more than one DAG template holds ({options.max_dag_tasks}) and the graph has no exact "
            "split: some tasks are in nested DAGs that wait for all of their members' upstreams, so they may start "
            "later, and after a failure a nested DAG does not run where some of its tasks would have")))
    wrappers = WrapperCalls(options.wrappers)
    dags = _Dags(workflow, layout, task_name, template_names, leaves, ctx, wrappers)
    dag_templates, mapping = dags.build()
    diagnostics.extend(dags.problems)
    exit_name, exit_templates = _exit_handler(workflow, ctx, template_names, leaves)
    document = _wrap(kind, name, workflow, [*dag_templates, *leaves.templates, *exit_templates], exit_name)
    if options.storage.mode == "volume" and any(uses_files(t) for t in tasks):
        spec = document["spec"].get("workflowSpec", document["spec"])
        spec["volumeClaimTemplates"] = [storage_claim(options.storage)]
    document, parts = split_parts(document, name)
    if parts:
        o = workflow.origin
        diagnostics.append(diag("AM119", o.path, o.line, o.column, (
            f"the workflow is larger than Argo's 1 MiB object limit: its nested DAGs are in {len(parts)} "
            "WorkflowTemplates written in the same file (apply them together)")))
    if len(document["spec"].get("workflowSpec", document["spec"])["templates"]) > MAX_TEMPLATES:
        o = workflow.origin
        diagnostics.append(diag("AM401", o.path, o.line, o.column, (
            f"more than {MAX_TEMPLATES} templates: {len(leaves.templates)} distinct task definitions and "
            f"{len(dag_templates)} DAG templates; Argo allows {MAX_TEMPLATES}")))
    o = workflow.origin
    diagnostics += [diag("AM502", o.path, o.line, o.column, choice) for choice in wrappers.choices]
    if wrappers.needs:
        diagnostics.append(diag("AM503", o.path, o.line, o.column,
                                "the wrapped tasks need, in the workflow's namespace: " + "; ".join(wrappers.needs)))
    return Manifest(kind, name, document, mapping, diagnostics, parts, wrappers.documents(), wrappers.needs)


MAX_TEMPLATES = 200


def _plain(task: ir.Task) -> bool:
    return task.join is ir.JoinRule.ALL_SUCCESS and task.when is None and not task.tolerate_failure


def _group_path(workflow: ir.Workflow, group: str | None) -> tuple[str, ...]:
    path: list[str] = []
    while group is not None and group in workflow.groups:
        path.append(group)
        group = workflow.groups[group].parent
    return tuple(reversed(path))


class _LeafTemplates:
    """One template per distinct definition: tasks whose template-relevant fields are equal share it, and it is
    built (with Hera) once."""

    def __init__(self, ctx: BuildContext, names: Namer, options: EmitOptions) -> None:
        self.ctx, self.names, self.options = ctx, names, options
        self.templates: list[Any] = []
        self.by_key: dict[object, tuple[str, TemplateParts]] = {}

    def get(self, task: ir.Task, hint: str) -> tuple[str, TemplateParts]:
        # The group matters only for what a template reads of others' outputs (one instance or the list of all).
        # File paths are arguments (storage.path_arguments), not part of the definition.
        key = (task.action, _pathless(task.outputs), _pathless(task.inputs), task.retry, task.timeout_seconds,
               task.semaphore, task.resources, task.group if task.action_reads_outputs() else None)
        found = self.by_key.get(key)
        if found is None:
            template, parts = build_template(task, self.names.take(_template_hint(task, hint)), self.ctx)
            self.templates.append(template)
            found = self.by_key[key] = (str(template.name), parts)
        return found


def _pathless(ports: tuple[ir.Port, ...]) -> tuple[ir.Port, ...]:
    return tuple(replace(p, path=None) if p.type.is_path else p for p in ports)


@dataclass
class _Scope:
    """One DAG template being written: what its tasks can name, and what crosses its border."""

    key: str
    name: str
    imports: dict[str, tuple[str, object]] = field(default_factory=dict)  # input parameter → symbol
    exports: dict[str, tuple[str, object]] = field(default_factory=dict)  # output parameter → symbol
    looped: bool = False


class _Dags:
    """Writes the layout's DAG templates. A reference to another task's output is written in the scope where it is
    read: directly when the producer is in the same DAG, through the outputs of the nested DAG holding it, or
    through the inputs of the DAG holding the reader; a loop item reaches into nested DAGs as an input."""

    def __init__(self, workflow: ir.Workflow, layout: Layout, task_name: dict[str, str], names: Namer,
                 leaves: _LeafTemplates, ctx: BuildContext, wrappers: WrapperCalls) -> None:
        self.w, self.layout, self.task_name, self.leaves, self.ctx = workflow, layout, task_name, leaves, ctx
        self.wrappers = wrappers
        self.scopes: dict[str, _Scope] = {ROOT: _Scope(ROOT, ENTRYPOINT)}
        block_names = Namer(reserved=(ENTRYPOINT, *task_name.values()), max_len=128, fallback="dag")
        for key, block in layout.blocks.items():
            hint = (workflow.groups[block.group].label or block.group) if block.group in workflow.groups else \
                (f"{block.entry}-dag" if block.entry else f"dag-{key.rsplit('/', 1)[-1]}")
            self.scopes[key] = _Scope(key, block_names.take(hint))
            template_name = names.take(self.scopes[key].name)
            self.scopes[key].name = template_name
            group = workflow.groups.get(block.group or "")
            self.scopes[key].looped = group is not None and group.loop is not None
        self.item_name = dict(task_name)
        for key in layout.blocks:
            self.item_name[key] = self.scopes[key].name
        self.edges = self._item_edges()
        self.may_skip: dict[str, bool] = {}
        self.problems: list[Diagnostic] = []

    # --- structure -------------------------------------------------------------------------------------------

    def _holder(self, item: str) -> str:
        return self.layout.parent[item]

    def _child_of(self, scope: str, task_id: str) -> str:
        """The item of ``scope`` that holds ``task_id`` (the task itself, or a nested block)."""
        item = task_id
        while self.layout.parent[item] != scope:
            item = self.layout.parent[item]
        return item

    def _inside(self, scope: str, item: str) -> bool:
        key: str | None = item
        while key is not None:
            if key == scope:
                return True
            key = self.layout.parent.get(key)
        return False

    def _item_edges(self) -> dict[str, dict[str, set[str]]]:
        """scope → item → its upstream items in that scope, for every edge of the graph, at the level where the
        two ends part."""
        edges: dict[str, dict[str, set[str]]] = {}
        for down in self.w.graph.nodes:
            chain_down = [down, *reversed(self.layout.path(down))]
            for up in self.w.graph.predecessors(down):
                ups = {self.layout.parent[up]: up}
                item = up
                while item in self.layout.parent:
                    parent = self.layout.parent[item]
                    ups[parent] = item
                    item = parent
                for item_down in chain_down:
                    scope = self.layout.parent[item_down]
                    if scope in ups and ups[scope] != item_down:
                        edges.setdefault(scope, {}).setdefault(item_down, set()).add(ups[scope])
                        break
        return edges

    # --- references ------------------------------------------------------------------------------------------

    def ref(self, scope: str, symbol: tuple[str, object]) -> str:
        """The expression for ``symbol`` in the DAG task fields of ``scope``."""
        kind, value = symbol
        if kind == "out":
            assert isinstance(value, ir.OutputRef)
            if self._inside(scope, value.task_id):
                item = self._child_of(scope, value.task_id)
                if item == value.task_id:
                    return "{{tasks.%s.outputs.parameters.%s}}" % (self.task_name[item], parameter_name(value.name))
                export = parameter_name(f"{self.task_name[value.task_id]}-{value.name}")
                self.scopes[item].exports[export] = symbol
                return "{{tasks.%s.outputs.parameters.%s}}" % (self.item_name[item], export)
            name = parameter_name(f"{self.task_name[value.task_id]}-{value.name}")
        else:
            assert isinstance(value, ir.ItemRef)
            name = parameter_name("item" if value.key is None else f"item-{value.key}")
        self.scopes[scope].imports[name] = symbol
        return "{{inputs.parameters.%s}}" % name

    def text(self, scope: str, value: ir.Text, own_loop: bool) -> str:
        def item(ref: ir.ItemRef) -> str:
            return _item(ref) if own_loop else self.ref(scope, ("item", ref))

        return _dag_text(value, lambda ref: self.ref(scope, ("out", ref)), item)

    def cond(self, scope: str, cond: ir.Cond, own_loop: bool) -> str:
        return render_condition(cond, lambda r: self.text(scope, (r,), own_loop))

    # --- writing ---------------------------------------------------------------------------------------------

    def build(self) -> tuple[list[Any], list[TaskMapping]]:
        mapping: list[TaskMapping] = []
        dag_tasks: dict[str, list[Any]] = {}
        order = self._post_order(ROOT)
        for key in order:
            block = self.layout.root if key == ROOT else self.layout.blocks[key]
            dag_tasks[key] = [self._dag_task(key, item, block.entry) for item in block.items]
        # A nested DAG's outputs are known once every reader was written; resolving one may ask a DAG nested
        # deeper for an output, so parents come first.
        outputs: dict[str, list[Parameter]] = {}
        for key in reversed(order):
            outputs[key] = [Parameter(name=name, value_from=m.ValueFrom(parameter=self.ref(key, symbol), default=""))
                            for name, symbol in sorted(self.scopes[key].exports.items())]
        for task in self.w.tasks():
            path = [self.scopes[b].name for b in self.layout.path(task.id)]
            if isinstance(task.action, ir.Wrapped) and self.wrappers.catalogued(task.action):
                ref, _ = self.wrappers.call(task.action)
                template = f"{ref.name}/{ref.template}"  # the WorkflowTemplate's, as `run --local` names it
            else:
                template = self.leaves.get(task, self.task_name[task.id])[0]
            status = task.status
            # A task running several jobs of the source (a fan-out) has a row per job, with its item index.
            jobs: list[tuple[str, int | None]] = [(j, i) for i, j in enumerate(task.jobs)] or [(task.id, None)]
            for source_id, item in jobs:
                mapping.append(TaskMapping(
                    source_id=source_id, task=".".join([*path, self.task_name[task.id]]), template=template,
                    line=task.origin.line, status=status.kind, engine=getattr(status, "engine", None),
                    reason=getattr(status, "reason", None), item=item))
        templates: list[Any] = []
        for key in reversed(order):
            scope = self.scopes[key]
            inputs = [Parameter(name=name) for name in sorted(scope.imports)]
            templates.append(DAG(name=scope.name, tasks=dag_tasks[key], fail_fast=self.w.fail_fast,
                                 inputs=inputs or None, outputs=outputs[key] or None))
        return templates, mapping

    def _post_order(self, key: str) -> list[str]:
        out: list[str] = []
        stack: list[tuple[str, bool]] = [(key, False)]
        while stack:
            current, done = stack.pop()
            if done:
                out.append(current)
                continue
            stack.append((current, True))
            block = self.layout.root if current == ROOT else self.layout.blocks[current]
            stack.extend((i, False) for i in reversed(block.items) if i in self.layout.blocks)
        return out

    def _dag_task(self, scope: str, item: str, entry: str | None) -> Any:
        ups = sorted(self.edges.get(scope, {}).get(item, set()))
        if item in self.layout.blocks:
            return self._block_task(scope, item, ups)
        task = self.w.task(item)
        if entry == item:
            join, own = ir.JoinRule.ALL_SUCCESS, None  # the block above carries them
            ups = []
        else:
            join, own = task.join, task.when
        cond = condition(join, [Upstream(self.item_name[u], self.may_skip.get(u, False)) for u in ups])
        own_loop = task.loop is not None
        when = cond.when
        if cond.depends is None and own is not None:
            # A join that waits for nothing (Airflow's "always") still reads its condition's outputs: it waits
            # for those producers to finish, whatever their outcome, so that Argo can resolve them.
            readers = sorted({self._child_of(scope, r.task_id) for r in ir.cond_refs(own)
                              if isinstance(r, ir.OutputRef) and self._inside(scope, r.task_id)} & set(ups))
            if readers:
                cond = replace(cond, depends=" && ".join(done(self.item_name[r]) for r in readers))
        if own is not None:
            rendered = self.cond(scope, own, own_loop)
            when = f"({when}) && ({rendered})" if when else rendered
        self.may_skip[item] = when is not None
        files = {k: v for k, v in task.arguments if self._file(v) is not None}
        reference: m.TemplateRef | None = None
        if isinstance(task.action, ir.Wrapped) and self.wrappers.catalogued(task.action):
            # A wrapper of the catalogue, called by templateRef; its WorkflowTemplate goes into the same file.
            reference, fixed = self.wrappers.call(task.action)
            template, arguments = None, {parameter_name(k): v for k, v in task.arguments if k not in files}
            passed: list[Any] = [Parameter(name=k, value=v) for k, v in fixed]
        else:
            template, parts = self.leaves.get(task, self.task_name[item])
            arguments = {**parts.inputs, **{parameter_name(k): v for k, v in task.arguments if k not in files}}
            passed = []
        passed += [Parameter(name=k, value=self.text(scope, v, own_loop)) for k, v in arguments.items()]
        passed += [self._file_argument(scope, k, v) for k, v in files.items()]
        passed += [Parameter(name=k, value=v) for k, v in path_arguments(task, self.ctx.storage).items()]
        loop = task.loop
        return HeraTask(
            name=self.task_name[item], template=template, template_ref=reference, depends=cond.depends, when=when,
            arguments=passed or None,
            with_items=_items(loop) if loop else None,
            with_param=self._param(scope, loop) if loop else None,
        )

    def _block_task(self, scope: str, key: str, ups: list[str]) -> Any:
        block = self.layout.blocks[key]
        inner = self.scopes[key]
        entry = self.w.task(block.entry) if block.entry else None
        join = entry.join if entry else ir.JoinRule.ALL_SUCCESS
        cond = condition(join, [Upstream(self.item_name[u], self.may_skip.get(u, False)) for u in ups])
        group = self.w.groups.get(block.group or "")
        loop = group.loop if group else None
        when = cond.when
        if entry is not None and entry.when is not None:
            rendered = self.cond(scope, entry.when, False)
            when = f"({when}) && ({rendered})" if when else rendered
        self.may_skip[key] = when is not None
        arguments = []
        for name, symbol in sorted(inner.imports.items()):
            if symbol[0] == "item" and loop is not None:
                value = self.text(scope, (symbol[1],), True)  # type: ignore[arg-type]
            else:
                value = self.ref(scope, symbol)
            arguments.append(Parameter(name=name, value=value))
        return HeraTask(
            name=inner.name, template=inner.name, depends=cond.depends, when=when, arguments=arguments or None,
            with_items=_items(loop) if loop else None,
            with_param=self._param(scope, loop) if loop else None,
        )

    def _file(self, value: ir.Text) -> ir.Port | None:
        """The File or Directory port an argument passes, if it passes one."""
        if len(value) == 1 and isinstance(value[0], ir.OutputRef) and value[0].task_id in self.w.graph:
            port = self.w.task(value[0].task_id).output(value[0].name)
            return port if port is not None and port.type.is_path else None
        return None

    def _file_argument(self, scope: str, name: str, value: ir.Text) -> Any:
        """A file in the workspace volume is passed as its path; an artifact, from its producer."""
        port = self._file(value)
        ref = value[0]
        assert port is not None and isinstance(ref, ir.OutputRef)
        if self.ctx.storage.mode == "volume":
            return Parameter(name=parameter_name(name), value=path_of(port))
        if not self._inside(scope, ref.task_id) or self._child_of(scope, ref.task_id) != ref.task_id:
            # The workflow is not written (an error); the argument below only keeps the DAG task whole.
            o = self.w.task(ref.task_id).origin
            self.problems.append(diag("AM128", o.path, o.line, o.column, (
                f"--storage artifacts: the file {ref.task_id}.{ref.name} is read in another nested DAG, which "
                "this backend cannot pass yet; use --storage volume")))
        return Artifact(name=parameter_name(name), from_="{{tasks.%s.outputs.artifacts.%s}}" % (
            self.task_name[ref.task_id], parameter_name(ref.name)))

    def _param(self, scope: str, loop: ir.Loop) -> str | None:
        if loop.over is not None:
            return self.text(scope, (loop.over,), False)
        return None


def _items(loop: ir.Loop) -> list[Any] | None:
    if loop.items is not None:
        return [json.loads(item) for item in loop.items]
    if loop.sources and all(s.items is not None for s in loop.sources):
        return combine(loop)
    return None


def combine(loop: ir.Loop) -> list[Any]:
    """The items of a loop over several literal sources: one object per iteration, keyed by source name."""
    lists = [[json.loads(i) for i in s.items or ()] for s in loop.sources]
    names = [s.name for s in loop.sources]
    if loop.mode is ir.LoopMode.ZIP:
        rows = list(zip(*lists, strict=False))
    else:
        rows = list(itertools.product(*lists))
    return [dict(zip(names, row, strict=True)) for row in rows]


EXIT_HANDLER = "exit-handler"


def _exit_handler(workflow: ir.Workflow, ctx: BuildContext, names: Namer,
                  leaves: _LeafTemplates) -> tuple[str | None, list[Any]]:
    """Tasks that run when the workflow ends (callbacks); they never change the workflow's phase."""
    if not workflow.on_exit:
        return None, []
    task_names = Namer(max_len=128, fallback="t")
    tasks: list[HeraTask | m.DAGTask] = []
    for task in workflow.on_exit:
        tname = task_names.take(task.id)
        template, parts = leaves.get(task, tname)
        tasks.append(HeraTask(
            name=tname, template=template,
            when=render_condition(task.when, lambda r: dag_level((r,), ctx.task_name_of)) if task.when else None,
            arguments=[Parameter(name=k, value=dag_level(v, ctx.task_name_of)) for k, v in parts.inputs.items()]
            or None,
            # Airflow's callbacks do not change the run's state; a failing exit handler would (§2.4).
            continue_on=m.ContinueOn(failed=True, error=True) if task.tolerate_failure else None,
        ))
    exit_name = names.take(EXIT_HANDLER)
    return exit_name, [DAG(name=exit_name, tasks=tasks, fail_fast=False)]


def dag_level(value: ir.Text, task_name_of: Callable[[str], str]) -> str:
    """Render text used in a DAG task's own fields, where ``{{tasks.…}}`` and ``{{item}}`` are in scope."""
    return _dag_text(value, lambda ref: "{{tasks.%s.outputs.parameters.%s}}" % (
        task_name_of(ref.task_id), parameter_name(ref.name)), _item)


def _item(ref: ir.ItemRef) -> str:
    return "{{item}}" if ref.key is None else "{{item.%s}}" % ref.key


def _dag_text(value: ir.Text, output: Callable[[ir.OutputRef], str], item: Callable[[ir.ItemRef], str]) -> str:
    out: list[str] = []
    for part in value:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, ir.OutputRef):
            out.append(output(part))
        elif isinstance(part, ir.ItemRef):
            out.append(item(part))
        elif isinstance(part, ir.ParamRef):
            out.append("{{workflow.parameters.%s}}" % parameter_name(part.name))
        elif isinstance(part, ir.RunMeta):
            out.append(run_meta(part))
        else:
            raise ValueError(f"{type(part).__name__} cannot be used in a DAG task field")
    return "".join(out)


def _template_hint(task: ir.Task, task_name: str) -> str:
    """A shared definition is named for what it runs (its function, its construct); a task's own, for the task."""
    if isinstance(task.action, ir.Noop):
        return "noop"
    if task.inputs:
        if isinstance(task.action, ir.PythonCall):
            return task.action.function
        return task.construct
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
        return _lean(Workflow(generate_name=f"{name}-", **common).to_dict())
    if kind == "WorkflowTemplate":
        return _lean(WorkflowTemplate(name=name, **common).to_dict())
    schedule = workflow.schedule
    assert schedule is not None
    cron = CronWorkflow(
        name=name, schedules=[schedule.cron], timezone=schedule.timezone,
        concurrency_policy="Forbid" if schedule.max_active_runs == 1 else None,
        **common,
    )
    return _lean(cron.to_dict())


def _lean(document: dict[str, Any]) -> dict[str, Any]:
    """Hera writes a DAG's failFast on the template too, where false is Argo's default: once is enough."""
    spec = document["spec"].get("workflowSpec", document["spec"])
    for template in spec.get("templates", []):
        if "dag" in template and template.get("failFast") is False:
            del template["failFast"]
    return document


def _parameter(p: ir.Parameter) -> Parameter:
    if p.config_map is not None:
        source = m.ValueFrom(config_map_key_ref=m.ConfigMapKeySelector(name=p.config_map[0], key=p.config_map[1]))
        return Parameter(name=parameter_name(p.name), value_from=source, description=p.description)
    return Parameter(name=parameter_name(p.name), value=p.default, description=p.description)


def manifest_name(workflow: ir.Workflow, kind: str) -> str:
    return dns_label(workflow.id, MAX_NAME[kind])
