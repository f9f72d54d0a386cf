"""One manifest as the semantic rules see it: its kind, its data and easy, defensive ways to walk it.

Rules run even when the structure check found errors, so nothing here assumes a field has the right type: a
``templates`` that is not a list simply has no templates. ``Dag`` holds what several rules share about one DAG
template (parsed ``depends``, the dependency graph, ancestors), computed once, with the parser and graph
algorithms the local runner uses too (``backends.argo.manifest_model``).
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from backends.argo.lint.findings import DocPath
from backends.argo.lint.hints import Hints
from backends.argo.manifest_model import (
    DependsError,
    Ref,
    components,
    dependency_graph,
    is_cyclic,
    task_depends,
)

LINTED_KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")
TEMPLATE_KINDS = ("WorkflowTemplate", "ClusterWorkflowTemplate")
MAX_DAG_TASKS = 200  # the maxItems of a DAG's tasks in Argo's CRD schema
LOOP_FIELDS = ("withItems", "withParam", "withSequence")


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def name_of(value: Any) -> str | None:
    name = as_dict(value).get("name")
    return name if isinstance(name, str) else None


def is_dynamic(text: str) -> bool:
    """A value with a ``{{...}}`` tag is known only when the workflow runs."""
    return "{{" in text


@dataclass(frozen=True)
class Node:
    """A mapping inside the document and where it is."""

    path: DocPath
    data: dict[str, Any]

    @property
    def name(self) -> str | None:
        return name_of(self.data)

    def child(self, key: str) -> Node | None:
        value = self.data.get(key)
        return Node((*self.path, key), value) if isinstance(value, dict) else None

    def items(self, key: str) -> list[Node]:
        """The mappings of the list at ``key``."""
        return [Node((*self.path, key, i), v) for i, v in enumerate(as_list(self.data.get(key))) if isinstance(v, dict)]


@dataclass(frozen=True)
class TemplateSet:
    """What a Workflow may use of a WorkflowTemplate linted in the same run."""

    templates: frozenset[str]
    parameters: frozenset[str]
    entrypoint: str | None


@dataclass
class Catalog:
    """The WorkflowTemplates and ClusterWorkflowTemplates among the documents linted together, by name."""

    namespaced: dict[str, TemplateSet] = field(default_factory=dict)
    cluster: dict[str, TemplateSet] = field(default_factory=dict)

    def add(self, kind: str, data: Any) -> None:
        if kind not in TEMPLATE_KINDS or not isinstance(data, dict):
            return
        name = name_of(data.get("metadata"))
        if not name:
            return
        spec = as_dict(data.get("spec"))
        entry = TemplateSet(
            frozenset(n for t in as_list(spec.get("templates")) if (n := name_of(t))),
            frozenset(n for p in as_list(as_dict(spec.get("arguments")).get("parameters")) if (n := name_of(p))),
            spec.get("entrypoint") if isinstance(spec.get("entrypoint"), str) else None,
        )
        (self.cluster if kind == "ClusterWorkflowTemplate" else self.namespaced)[name] = entry

    def find(self, name: str, cluster: bool) -> TemplateSet | None:
        return (self.cluster if cluster else self.namespaced).get(name)


class Dag:
    """One DAG template: its tasks and their dependencies as Argo reads them (``workflow/common/ancestry.go``)."""

    def __init__(self, template: Node, dag: Node) -> None:
        self.template = template
        self.dag = dag
        self.tasks = dag.items("tasks")
        self.by_name: dict[str, Node] = {}
        for task in self.tasks:
            if task.name is not None:
                self.by_name.setdefault(task.name, task)
        self.uses_depends = any(_text(t.data.get("depends")) for t in self.tasks)
        self.uses_dependencies = any(as_list(t.data.get("dependencies")) for t in self.tasks)
        self.refs: dict[str, tuple[Ref, ...]] = {}  # task name → references of its depends, or of its dependencies
        self.errors: dict[str, DependsError] = {}
        for name, task in self.by_name.items():
            try:
                depends = task_depends(task.data)
            except DependsError as exc:
                self.errors[name] = exc
                depends = None
            self.refs[name] = depends.refs if depends is not None else ()

    @property
    def name(self) -> str:
        return self.template.name or "?"

    @functools.cached_property
    def graph(self) -> dict[str, list[str]]:
        """Task → the existing tasks it names, each once, in order."""
        return dependency_graph({name: (r.task for r in refs) for name, refs in self.refs.items()})

    def depends_on(self, task: str) -> list[str]:
        return self.graph.get(task, [])

    @functools.cached_property
    def _ancestor_bits(self) -> dict[str, int]:
        # One pass over the strongly connected components, dependencies first: a task's ancestors are its
        # dependencies and theirs, as a bit set over task positions (the tasks of a cycle are ancestors of each
        # other). A set holds a bit per task, so this is quadratic for large DAGs: see is_ancestor.
        graph = self.graph
        bit = {name: 1 << i for i, name in enumerate(graph)}
        found: dict[str, int] = {}
        for component in components(graph):
            members = set(component)
            ancestors = 0
            for name in component:
                for dep in graph[name]:
                    if dep not in members:
                        ancestors |= found[dep] | bit[dep]
            if is_cyclic(component, graph):
                for name in component:
                    ancestors |= bit[name]
            for name in component:
                found[name] = ancestors
        return found

    @functools.cached_property
    def _direct(self) -> dict[str, set[str]]:
        return {name: set(deps) for name, deps in self.graph.items()}

    @functools.cached_property
    def _position(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.graph)}

    def is_ancestor(self, ancestor: str, task: str) -> bool | None:
        """Whether ``task`` depends on ``ancestor`` (both task names), directly or through other tasks.

        None (not known) in a DAG over Argo's task limit, when ``ancestor`` is not a direct dependency: the answer
        would cost time quadratic in the tasks, and AM401 rejects such a DAG anyway.
        """
        if ancestor in self._direct.get(task, ()):
            return True  # the usual case, answered without the ancestor sets
        if len(self.tasks) > MAX_DAG_TASKS:
            return None
        return bool(self._ancestor_bits.get(task, 0) >> self._position[ancestor] & 1)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


class Manifest:
    """One Workflow, WorkflowTemplate, ClusterWorkflowTemplate or CronWorkflow document."""

    def __init__(self, kind: str, data: dict[str, Any], catalog: Catalog | None = None) -> None:
        self.kind = kind
        self.data = data
        self.catalog = catalog or Catalog()
        self.hints = Hints()  # the document's budget of "did you mean" suggestions
        self.spec_path: DocPath = ("spec", "workflowSpec") if kind == "CronWorkflow" else ("spec",)
        spec: Any = data
        for key in self.spec_path:
            spec = as_dict(spec).get(key)
        self.spec = as_dict(spec)

    @property
    def metadata(self) -> dict[str, Any]:
        return as_dict(self.data.get("metadata"))

    @property
    def templates(self) -> list[Node]:
        """The mappings of ``spec.templates``."""
        return Node(self.spec_path, self.spec).items("templates")

    @functools.cached_property
    def template_names(self) -> frozenset[str]:
        return frozenset(t.name for t in self.templates if t.name is not None)

    @functools.cached_property
    def all_templates(self) -> list[Node]:
        """``spec.templates`` and every inline template of their tasks and steps, outermost first."""
        found: list[Node] = []
        queue = deque(self.templates)
        while queue:
            template = queue.popleft()
            found.append(template)
            for holder in self.holders(template):
                inline = holder.child("inline")
                if inline is not None:
                    queue.append(inline)
        return found

    @staticmethod
    def steps(template: Node) -> list[Node]:
        """The steps of a steps template, across all its parallel groups."""
        out: list[Node] = []
        for g, group in enumerate(as_list(template.data.get("steps"))):
            for s, step in enumerate(as_list(group)):
                if isinstance(step, dict):
                    out.append(Node((*template.path, "steps", g, s), step))
        return out

    @staticmethod
    def dag_tasks(template: Node) -> list[Node]:
        dag = template.child("dag")
        return dag.items("tasks") if dag is not None else []

    def holders(self, template: Node) -> list[Node]:
        """The DAG tasks and steps of ``template``: everything that names a template to run."""
        return self.dag_tasks(template) + self.steps(template)

    @functools.cached_property
    def dags(self) -> list[Dag]:
        out = []
        for template in self.all_templates:
            dag = template.child("dag")
            if dag is not None:
                out.append(Dag(template, dag))
        return out

    def template_ref(self, ref: Any) -> tuple[TemplateSet | None, str | None]:
        """The linted WorkflowTemplate a ``templateRef``/``workflowTemplateRef`` names (None when not linted)."""
        ref = as_dict(ref)
        name = ref.get("name")
        if not isinstance(name, str) or is_dynamic(name):
            return None, None
        cluster = ref.get("clusterScope") is True
        return self.catalog.find(name, cluster), ("ClusterWorkflowTemplate" if cluster else "WorkflowTemplate")

    def iter_parameter_lists(self) -> Iterator[tuple[DocPath, list[Any]]]:
        """Every list of parameters or artifacts: spec.arguments, template inputs/outputs, task and step arguments."""
        spec = Node(self.spec_path, self.spec)
        holders: list[Node] = []
        arguments = spec.child("arguments")
        if arguments is not None:
            holders.append(arguments)
        for template in self.all_templates:
            for key in ("inputs", "outputs"):
                part = template.child(key)
                if part is not None:
                    holders.append(part)
            for holder in self.holders(template):
                part = holder.child("arguments")
                if part is not None:
                    holders.append(part)
        for holder in holders:
            for key in ("parameters", "artifacts"):
                value = holder.data.get(key)
                if isinstance(value, list):
                    yield (*holder.path, key), value
