"""Every template that is named must exist.

What it checks
    The ``template`` of each DAG task and step, of ``spec.onExit``, ``spec.entrypoint`` and of every lifecycle hook
    names a template of ``spec.templates``; a ``templateRef`` (or ``workflowTemplateRef``) to a WorkflowTemplate or
    ClusterWorkflowTemplate that is among the files linted together names one of its templates. A Workflow or
    CronWorkflow needs an entrypoint (a WorkflowTemplate may leave it to the Workflow). A task or step names exactly
    one of ``template``, ``templateRef`` and ``inline``; a Workflow that uses ``workflowTemplateRef`` has no templates
    of its own. Names holding ``{{...}}`` are known only at run time and are not checked.

Why
    Argo's ``validateTemplateHolder`` rejects these at submission ("template name 'x' undefined"); a templateRef to a
    template that is missing fails only when the workflow reaches it, possibly hours into a run.

Example::

    spec:
      entrypoint: main
      templates:
        - name: mian        # typo: entrypoint 'main' is undefined
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backends.argo.lint.findings import DocPath, Finding
from backends.argo.lint.manifest import Manifest, Node, as_dict, is_dynamic

NAME = "undefined-template"
CODES = ("AM410",)


def _by_name(doc: Manifest, value: Any, path: DocPath, available: frozenset[str] | None,
             where: str) -> Iterator[Finding]:
    if isinstance(value, str) and value and not is_dynamic(value) and available is not None \
            and value not in available:
        yield Finding("AM410", path, f"template '{value}' is not defined in {where}"
                                     f"{doc.hints.did_you_mean(value, available)}")


def _by_ref(doc: Manifest, ref: Any, path: DocPath) -> Iterator[Finding]:
    ref = as_dict(ref)
    name, template = ref.get("name"), ref.get("template")
    if not name or not template:
        yield Finding("AM410", path, "templateRef needs both 'name' and 'template'")
        return
    found, kind = doc.template_ref(ref)
    if found is not None and isinstance(template, str):
        yield from _by_name(doc, template, (*path, "template"), found.templates, f"{kind} '{name}'")


def _holder(doc: Manifest, holder: Node, what: str, available: frozenset[str] | None) -> Iterator[Finding]:
    data = holder.data
    given = [k for k in ("template", "templateRef", "inline") if data.get(k) not in (None, "")]
    if len(given) > 1:
        yield Finding("AM410", holder.path, f"{what} sets {' and '.join(given)}; exactly one is allowed")
    elif not given:
        yield Finding("AM410", holder.path, f"{what} names no template (template, templateRef or inline)")
    if "template" in given:
        yield from _by_name(doc, data["template"], (*holder.path, "template"), available, "spec.templates")
    if "templateRef" in given:
        yield from _by_ref(doc, data["templateRef"], (*holder.path, "templateRef"))


def _hooks(doc: Manifest, hooks: Any, path: DocPath, available: frozenset[str] | None) -> Iterator[Finding]:
    for event, hook in as_dict(hooks).items():
        if isinstance(hook, dict):
            yield from _holder(doc, Node((*path, event), hook), f"hook '{event}'", available)


def check(doc: Manifest) -> Iterator[Finding]:
    spec, sp = doc.spec, doc.spec_path
    workflow_ref = spec.get("workflowTemplateRef")
    own = doc.template_names
    # What entrypoint and onExit may name: our own templates, or the referenced WorkflowTemplate's when it is linted
    # too (None: it is not, so they cannot be checked).
    top: frozenset[str] | None = own
    top_where = "spec.templates"
    referenced = None
    if isinstance(workflow_ref, dict):
        referenced, kind = doc.template_ref(workflow_ref)
        top = referenced.templates if referenced is not None else None
        top_where = f"{kind} '{workflow_ref.get('name')}'"
        if doc.templates:
            yield Finding("AM410", (*sp, "templates"),
                          "a Workflow that uses workflowTemplateRef cannot have templates of its own")

    entrypoint = spec.get("entrypoint")
    if entrypoint:
        yield from _by_name(doc, entrypoint, (*sp, "entrypoint"), top, top_where)
    elif doc.kind in ("Workflow", "CronWorkflow"):
        if not isinstance(workflow_ref, dict):
            yield Finding("AM410", sp, "spec.entrypoint is required")
        elif referenced is not None and not referenced.entrypoint:
            yield Finding("AM410", sp, f"neither this Workflow nor {top_where} sets an entrypoint")
    yield from _by_name(doc, spec.get("onExit"), (*sp, "onExit"), top, top_where)
    yield from _hooks(doc, spec.get("hooks"), (*sp, "hooks"), top)

    for template in doc.all_templates:
        for task in doc.dag_tasks(template):
            yield from _holder(doc, task, f"task '{task.name or '?'}'", own)
            yield from _hooks(doc, task.data.get("hooks"), (*task.path, "hooks"), own)
        for step in doc.steps(template):
            yield from _holder(doc, step, f"step '{step.name or '?'}'", own)
            yield from _hooks(doc, step.data.get("hooks"), (*step.path, "hooks"), own)
