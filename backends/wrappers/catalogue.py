"""The wrapper catalogue as WorkflowTemplates: one per engine, each documenting its parameters, Secrets and outputs.

A wrapper module (``backends/wrappers/<engine>.py``) defines three things:

- ``DOC``: a :class:`WrapperDoc` (what the README's table and ``argo-migrate templates`` print);
- ``workflow_template(options) -> dict``: the WorkflowTemplate manifest, named :func:`template_name`, with
  ``spec.entrypoint: main``; ``main``'s input parameters are ``DOC.parameters`` (a caller passes them with
  ``templateRef: {name, template: main}``; ``argo submit --from workflowtemplate/NAME -p …`` passes them as the
  workflow's arguments, which Argo hands to the entrypoint);
- ``arguments(action, options) -> tuple[tuple[str, str], ...]``: the parameters a frontend's
  :class:`~migrator.ir.Wrapped` action passes to ``main`` (for wrappers a frontend uses).

The program a wrapper runs in its pod lives beside it in ``backends/wrappers/programs/`` and is embedded as a script
template's ``source`` (read with :func:`program`), so it is one file that tests can also run directly.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

from backends.wrappers import WrapperOptions
from migrator.ir import Wrapped

PREFIX = "argo-migrate-"


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    default: str | None = None  # None: the caller must give it


@dataclass(frozen=True)
class SecretUse:
    secret: str  # the Secret's name (or, in angle brackets, how it is named: "<connection id>")
    keys: tuple[str, ...]
    description: str
    optional: bool = False


@dataclass(frozen=True)
class Output:
    name: str
    kind: str  # "parameter" or "artifact"
    description: str


@dataclass(frozen=True)
class WrapperDoc:
    engine: str
    summary: str
    parameters: tuple[Param, ...] = ()
    secrets: tuple[SecretUse, ...] = ()
    outputs: tuple[Output, ...] = ()
    stop: str = ""  # what happens to the remote run when the workflow is stopped or fails
    local: str = ""  # how the test suite runs it against the real engine


class WrapperModule(Protocol):
    DOC: WrapperDoc

    def workflow_template(self, options: WrapperOptions) -> dict[str, Any]: ...


# engine → module; the order is the README's and the `templates` command's.
MODULES: dict[str, str] = {
    "airflow-task": "backends.wrappers.airflow_task",
    "airflow-dag": "backends.wrappers.airflow_dag",
    "slurm-job": "backends.wrappers.slurm_job",
    "spark-application": "backends.wrappers.spark_application",
    "engine-in-pod": "backends.wrappers.engine_in_pod",
    "snakemake-job": "backends.wrappers.snakemake_job",
    "python-function": "backends.wrappers.python_function",
}


def module(engine: str) -> WrapperModule:
    mod: Any = importlib.import_module(MODULES[engine])
    return mod  # type: ignore[no-any-return]


def template_name(engine: str, variant: str = "") -> str:
    """The WorkflowTemplate's name: ``argo-migrate-<engine>``, with a variant (``-airflow2``) where one engine
    needs two images."""
    return PREFIX + engine + (f"-{variant}" if variant else "")


def program(name: str) -> str:
    """The source of an in-pod program shipped in ``backends/wrappers/programs/``."""
    return resources.files("backends.wrappers").joinpath("programs", name).read_text(encoding="utf-8")


def base_template(name: str, doc: WrapperDoc, templates: list[dict[str, Any]]) -> dict[str, Any]:
    """A WorkflowTemplate whose ``main`` takes ``doc.parameters``; the description annotations carry the doc."""
    params = [{"name": p.name, **({"value": p.default} if p.default is not None else {}),
               "description": p.description} for p in doc.parameters]
    secrets = "; ".join(f"{s.secret} ({', '.join(s.keys)}){' optional' if s.optional else ''}: {s.description}"
                        for s in doc.secrets)
    outputs = "; ".join(f"{o.name} ({o.kind}): {o.description}" for o in doc.outputs)
    annotations = {"workflows.argoproj.io/description": doc.summary}
    if secrets:
        annotations["argo-migrate.io/secrets"] = secrets
    if outputs:
        annotations["argo-migrate.io/outputs"] = outputs
    if doc.stop:
        annotations["argo-migrate.io/on-stop"] = doc.stop
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "argo-migrate",
                                              "argo-migrate.io/wrapper": doc.engine},
                     "annotations": annotations},
        "spec": {"entrypoint": "main", "arguments": {"parameters": params}, "templates": templates},
    }


def param_env(name: str, param: str) -> dict[str, str]:
    """An environment variable of the in-pod program holding the template's input parameter ``param``."""
    return {"name": name, "value": "{{inputs.parameters.%s}}" % param}


def params_env(params: tuple[str, ...]) -> list[dict[str, str]]:
    """``AM_<PARAM>`` for each input parameter (``dag-id`` → ``AM_DAG_ID``)."""
    return [param_env("AM_" + p.upper().replace("-", "_"), p) for p in params]


def inputs_of(doc: WrapperDoc) -> dict[str, Any]:
    """``main``'s ``inputs``: every documented parameter, with its default where it has one."""
    return {"parameters": [{"name": p.name, **({"default": p.default} if p.default is not None else {})}
                           for p in doc.parameters]}


def arguments(action: Wrapped, options: WrapperOptions) -> tuple[tuple[str, str], ...]:
    mod: Any = importlib.import_module(MODULES[action.engine])
    return tuple(mod.arguments(action, options))


def _as_list(made: dict[str, Any] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return made if isinstance(made, list) else [made]


@functools.lru_cache(maxsize=64)
def _templates(engine: str, options: WrapperOptions) -> tuple[dict[str, Any], ...]:
    """The engine's WorkflowTemplates, built once per options (a program's source is read once); shared, never
    modified."""
    mod: Any = module(engine)
    return tuple(_as_list(mod.workflow_template(options)))


class WrapperCalls:
    """The catalogue as one workflow uses it: each wrapped task becomes a ``templateRef`` to its engine's
    WorkflowTemplate (the variant a module's ``template_for`` picks, else the only one), and every WorkflowTemplate
    so called is kept, once, for the manifest's file."""

    def __init__(self, options: WrapperOptions) -> None:
        self.options = options
        self.used: dict[str, dict[str, Any]] = {}
        self.needs: list[str] = []  # what the cluster must hold for the calls: Secrets, ConfigMaps (sorted, once)
        self.choices: list[str] = []  # which variant (image) was chosen and why, once per distinct choice

    def catalogued(self, action: Wrapped) -> bool:
        """Whether the engine is a WorkflowTemplate of the catalogue (``ssh``, say, is a plain step)."""
        return action.engine in MODULES

    def call(self, action: Wrapped) -> tuple[Any, tuple[tuple[str, str], ...]]:
        from hera.workflows import models as m

        mod: Any = module(action.engine)
        documents = _templates(action.engine, self.options)
        name = mod.template_for(action, self.options) if hasattr(mod, "template_for") else \
            str(documents[0]["metadata"]["name"])
        for document in documents:
            if document["metadata"]["name"] == name:
                self.used.setdefault(name, document)
        if hasattr(mod, "needs"):
            self.needs = sorted({*self.needs, *mod.needs(action, self.options)})
        if hasattr(mod, "choice"):
            said = mod.choice(action, self.options)
            if said and said not in self.choices:
                self.choices.append(said)
        # A module with several entry templates (slurm-job's `workspace`) says which one the action calls.
        entry = mod.entry_for(action, self.options) if hasattr(mod, "entry_for") else "main"
        return m.TemplateRef(name=name, template=entry), arguments(action, self.options)

    def documents(self) -> list[dict[str, Any]]:
        return [self.used[name] for name in sorted(self.used)]
