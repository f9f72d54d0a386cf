"""Load a manifest, pick its workflow spec and check it statically before anything runs.

Accepted kinds: ``Workflow``, ``WorkflowTemplate``, ``ClusterWorkflowTemplate`` and ``CronWorkflow`` (its
``workflowSpec``). Checked before the run, each with a :class:`ManifestError` naming the place: YAML syntax, the
kind, the entrypoint, every ``template:`` reference (tasks, steps, ``onExit``, exit hooks), template types, DAG task
references in ``depends``/``dependencies``, cycles, ``depends`` syntax and results, and workflow parameters that
only a cluster could supply (a ConfigMap) unless ``-p`` gives them. ``run --local`` lints the manifest before this
(``preflight``), so most of these are lint's findings first; they stay here for callers of :func:`load` (tests,
other tools). Template types, ``depends`` and cycles are read with the model lint uses
(``backends.argo.manifest_model``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backends.argo.local.expressions import ExpressionError
from backends.argo.manifest_model import (
    Depends,
    DependsError,
    cycles,
    dependency_graph,
    task_depends,
    template_types,
)

KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")


class ManifestError(Exception):
    """The manifest cannot be run at all (exit status 2)."""


@dataclass
class Manifest:
    path: str
    kind: str
    name: str
    spec: dict[str, Any]
    templates: dict[str, dict[str, Any]]
    parameters: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def entrypoint(self) -> str:
        return str(self.spec.get("entrypoint") or "")


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: Any, what: str = "duration") -> float:
    """Seconds of a Go duration (``90s``, ``1m30s``, ``2h``) or a plain number of seconds (``"10"``, ``10``)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    if text and _DURATION.sub("", text) == "":
        return sum(float(n) * _UNIT[u] for n, u in _DURATION.findall(text))
    raise ManifestError(f"{what} {value!r} is not a number of seconds or a duration such as 30s, 5m, 1h")


def parse_parameters(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ManifestError(f"-p {pair!r}: expected name=value")
        out[name.strip()] = value
    return out


def _load_documents(path: Path) -> list[Any]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read: {exc}") from None
    try:
        return [d for d in YAML(typ="safe").load_all(text) if d is not None]
    except YAMLError as exc:
        raise ManifestError(f"{path}: malformed YAML: {' '.join(str(exc).split())}") from None


def load(path: Path, overrides: dict[str, str] | None = None, config_maps: dict[str, Path] | None = None,
         library: list[Path] | None = None) -> Manifest:
    r"""The runnable manifest of ``path``: its Workflow or CronWorkflow, else the WorkflowTemplate no other document
    of the file calls. Every WorkflowTemplate of the file and of ``library`` (files or folders, as ``--templates``
    gives them) serves the ``templateRef``\ s (see :func:`resolve_template_refs`)."""
    documents = _load_documents(path)
    chosen = [d for d in documents if isinstance(d, dict) and d.get("kind") in KINDS]
    if not chosen:
        kinds = sorted({str(d.get("kind")) for d in documents if isinstance(d, dict)}) or ["nothing"]
        raise ManifestError(f"{path}: no runnable manifest: found {', '.join(kinds)}; expected one of "
                            f"{', '.join(KINDS)}")
    document = _runnable(chosen)
    referable = [d for d in chosen if d is not document and d.get("kind") in REFERABLE]
    for extra in library or []:
        for file in sorted(extra.rglob("*.y*ml")) if extra.is_dir() else [extra]:
            referable += [d for d in _load_documents(file) if isinstance(d, dict) and d.get("kind") in REFERABLE]
    kind = document["kind"]
    spec = document.get("spec")
    if kind == "CronWorkflow":
        spec = spec.get("workflowSpec") if isinstance(spec, dict) else None
    if not isinstance(spec, dict):
        raise ManifestError(f"{path}: {kind} has no spec")
    metadata: dict[str, Any] = document["metadata"] if isinstance(document.get("metadata"), dict) else {}
    name = str(metadata.get("name") or (str(metadata.get("generateName") or "workflow-") + "local"))

    templates = _templates(path, spec)
    resolve_template_refs(path, templates, {_name(d): d for d in referable})

    manifest = Manifest(str(path), kind, name, spec, templates,
                        labels={str(k): str(v) for k, v in (metadata.get("labels") or {}).items()},
                        annotations={str(k): str(v) for k, v in (metadata.get("annotations") or {}).items()})
    manifest.parameters = _parameters(path, spec, overrides or {}, config_maps or {})
    check(manifest)
    return manifest


REFERABLE = ("WorkflowTemplate", "ClusterWorkflowTemplate")
# A template of a referenced WorkflowTemplate is known to the run under "<WorkflowTemplate>/<template>": no
# template of the workflow can have that name, as Argo names have no "/".
REF_SEPARATOR = "/"


def _name(document: dict[str, Any]) -> str:
    metadata: dict[str, Any] = document["metadata"] if isinstance(document.get("metadata"), dict) else {}
    return str(metadata.get("name") or "")


def _runnable(documents: list[dict[str, Any]]) -> dict[str, Any]:
    for document in documents:
        if document.get("kind") in ("Workflow", "CronWorkflow"):
            return document
    called = {str(ref.get("name")) for d in documents for ref in _refs(d.get("spec"))}
    uncalled = [d for d in documents if _name(d) not in called]
    return uncalled[0] if uncalled else documents[0]


def _refs(value: Any) -> list[dict[str, Any]]:
    """Every ``templateRef`` mapping inside ``value``."""
    found: list[dict[str, Any]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("templateRef"), dict):
                found.append(item["templateRef"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _templates(path: Path, spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    templates: dict[str, dict[str, Any]] = {}
    defaults = spec.get("templateDefaults") if isinstance(spec.get("templateDefaults"), dict) else {}
    for i, template in enumerate(spec.get("templates") or []):
        if not isinstance(template, dict) or not template.get("name"):
            raise ManifestError(f"{path}: templates[{i}] has no name")
        tname = str(template["name"])
        if tname in templates:
            raise ManifestError(f"{path}: template {tname!r} is defined twice")
        templates[tname] = _merge(defaults, template) if defaults else template
    return templates


def resolve_template_refs(path: Path, templates: dict[str, dict[str, Any]],
                          library: dict[str, dict[str, Any]]) -> None:
    """Turn every ``templateRef`` into a plain ``template:`` reference, as Argo resolves it: the referenced
    template, and every template it calls in turn, come from the named WorkflowTemplate and are added to
    ``templates`` under ``<WorkflowTemplate>/<template>``; a reference inside one of them names a template of the same
    WorkflowTemplate. The caller's workflow parameters and variables stay in force, as on a cluster."""
    loaded: dict[str, dict[str, dict[str, Any]]] = {}

    def target(ref: dict[str, Any], where: str) -> str:
        wt, tname = str(ref.get("name") or ""), str(ref.get("template") or "")
        if wt not in library:
            raise ManifestError(f"{path}: {where} refers to WorkflowTemplate {wt!r}, which is neither in this file "
                                "nor in --templates")
        if wt not in loaded:
            spec: dict[str, Any] = library[wt]["spec"] if isinstance(library[wt].get("spec"), dict) else {}
            loaded[wt] = _templates(path, spec)
        if tname not in loaded[wt]:
            raise ManifestError(f"{path}: {where} refers to template {tname!r}, which WorkflowTemplate {wt!r} "
                                "does not define")
        qualified = wt + REF_SEPARATOR + tname
        if qualified not in templates:
            copy = json.loads(json.dumps(loaded[wt][tname]))
            copy["name"] = qualified
            templates[qualified] = copy
            rewrite(copy, wt)
        return qualified

    def rewrite(template: dict[str, Any], home: str | None) -> None:
        calls = [*((template.get("dag") or {}).get("tasks") or []),
                 *(step for group in template.get("steps") or [] for step in (group or []))]
        for call in calls:
            if not isinstance(call, dict):
                continue
            where = f"template {template.get('name')!r} task {call.get('name')!r}"
            if isinstance(call.get("templateRef"), dict):
                call["template"] = target(call.pop("templateRef"), where)
            elif home is not None and call.get("template"):
                call["template"] = target({"name": home, "template": call["template"]}, where)
            hooks: dict[str, Any] = call["hooks"] if isinstance(call.get("hooks"), dict) else {}
            for hook in hooks.values():
                if isinstance(hook, dict) and isinstance(hook.get("templateRef"), dict):
                    hook["template"] = target(hook.pop("templateRef"), where + " hook")
                elif home is not None and isinstance(hook, dict) and hook.get("template"):
                    hook["template"] = target({"name": home, "template": hook["template"]}, where + " hook")
            if home is not None and call.get("onExit"):
                call["onExit"] = target({"name": home, "template": call["onExit"]}, where + " onExit")

    for template in list(templates.values()):
        rewrite(template, None)


def _merge(defaults: dict[str, Any], template: dict[str, Any]) -> dict[str, Any]:
    out = dict(defaults)
    for key, value in template.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _parameters(path: Path, spec: dict[str, Any], overrides: dict[str, str],
                config_maps: dict[str, Path]) -> dict[str, str]:
    out: dict[str, str] = {}
    arguments: dict[str, Any] = spec["arguments"] if isinstance(spec.get("arguments"), dict) else {}
    for param in arguments.get("parameters") or []:
        pname = str(param.get("name"))
        if pname in overrides:
            value: Any = overrides[pname]
        elif "value" in param:
            value = param["value"]
        elif "default" in param:
            value = param["default"]
        elif isinstance(param.get("valueFrom"), dict) and _from_config_map(param["valueFrom"], config_maps):
            value = _from_config_map(param["valueFrom"], config_maps)
        elif param.get("valueFrom"):
            raise ManifestError(f"{path}: workflow parameter {pname!r} comes from {sorted(param['valueFrom'])[0]}, "
                                f"which only a cluster can read; give it with -p {pname}=VALUE")
        else:
            raise ManifestError(f"{path}: workflow parameter {pname!r} has no value; give it with -p {pname}=VALUE")
        text = _text(value)
        enum = param.get("enum")
        if enum and text not in [_text(e) for e in enum]:
            raise ManifestError(f"{path}: workflow parameter {pname!r} = {text!r} is not one of {enum}")
        out[pname] = text
    for pname, value in overrides.items():
        out.setdefault(pname, value)
    return out


def _from_config_map(source: dict[str, Any], config_maps: dict[str, Path]) -> str | None:
    ref: dict[str, Any] = source["configMapKeyRef"] if isinstance(source.get("configMapKeyRef"), dict) else {}
    folder = config_maps.get(str(ref.get("name")))
    key = str(ref.get("key") or "")
    if folder is None or not key or "/" in key or key.startswith("."):
        return None
    try:
        return (folder / key).read_text(encoding="utf-8")
    except OSError:
        return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else str(value)


def dag_depends(task: dict[str, Any]) -> Depends | None:
    """The task's ``depends`` (or its ``dependencies`` as one expression); ``None`` for a root task. A malformed
    ``depends`` is an ExpressionError, as every expression the runner cannot read is."""
    try:
        return task_depends(task)
    except DependsError as exc:
        raise ExpressionError(f"depends {task.get('depends')!r}: {exc.message}") from None


def check(manifest: Manifest) -> None:
    where = manifest.path
    if manifest.spec.get("workflowTemplateRef"):
        raise ManifestError(f"{where}: spec.workflowTemplateRef is not supported by the local runner; run the "
                            "referenced WorkflowTemplate's file with -p for its arguments")
    if not manifest.entrypoint:
        raise ManifestError(f"{where}: spec.entrypoint is missing")

    def ref(name: Any, context: str) -> None:
        if name is not None and str(name) not in manifest.templates and "{{" not in str(name):
            raise ManifestError(f"{where}: {context} refers to template {name!r}, which is not defined")

    ref(manifest.entrypoint, "spec.entrypoint")
    ref(manifest.spec.get("onExit"), "spec.onExit")
    for tname, template in manifest.templates.items():
        types = template_types(template)
        if not types:
            raise ManifestError(f"{where}: template {tname!r} has no type (container, script, dag, steps, …)")
        if len(types) > 1:
            raise ManifestError(f"{where}: template {tname!r} has several types ({', '.join(types)}); Argo allows one")
        for i, group in enumerate(template.get("steps") or []):
            for step in group or []:
                context = f"template {tname!r} steps[{i}] {step.get('name')!r}"
                ref(step.get("template"), context)
                ref(step.get("onExit"), context + " onExit")
                ref(((step.get("hooks") or {}).get("exit") or {}).get("template"), context + " hooks.exit")
        if template.get("dag") is not None:
            _check_dag(manifest, tname, template["dag"], ref)


def _check_dag(manifest: Manifest, tname: str, dag: dict[str, Any], ref: Any) -> None:
    where = manifest.path
    tasks = {str(t.get("name")): t for t in dag.get("tasks") or []}
    named: dict[str, list[str]] = {}
    for name, task in tasks.items():
        context = f"template {tname!r} task {name!r}"
        ref(task.get("template"), context)
        ref(task.get("onExit"), context + " onExit")
        ref(((task.get("hooks") or {}).get("exit") or {}).get("template"), context + " hooks.exit")
        if task.get("depends") and task.get("dependencies"):
            raise ManifestError(f"{where}: {context} uses both depends and dependencies")
        if task.get("depends") is not None and not isinstance(task["depends"], str):
            raise ManifestError(f"{where}: {context}: depends is not a string")
        if task.get("dependencies") is not None and not (isinstance(task["dependencies"], list) and all(
                isinstance(d, str) for d in task["dependencies"])):
            raise ManifestError(f"{where}: {context}: dependencies is not a list of task names")
        try:
            depends = dag_depends(task)
        except ExpressionError as exc:
            raise ManifestError(f"{where}: {context}: {exc}") from None
        named[name] = depends.tasks() if depends else []
        for dep in named[name]:
            if dep not in tasks:
                raise ManifestError(f"{where}: {context} depends on {dep!r}, which is not a task of this DAG")
    found = cycles(dependency_graph(named))
    if found:
        raise ManifestError(f"{where}: template {tname!r} has a dependency cycle: {' -> '.join(found[0].path)}")
