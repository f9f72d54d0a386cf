"""How File and Directory ports move between tasks (``--storage``).

- ``volume`` (default): one workspace volume for the whole run (a ``volumeClaimTemplate``, its storage class, size
  and access mode as options), mounted at ``/workspace`` in every pod that reads or writes files. A file port's
  path is a path in it; a consumer is passed the producer's path. Nothing is copied.
- ``artifacts``: each produced file is an output artifact (Argo's default repository and key:
  ``{{workflow.name}}/{{pod.name}}/…``), each consumed one an input artifact placed at the consumer's path. Pods
  share nothing; this needs an artifact repository.

Init and Finalize (:class:`~migrator.ir.Stage`) read the raw inputs from the artifact repository under the keys the
frontend gave, and keep the final outputs there under ``<workflow name>/outputs/<name>``, in both modes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from hera.workflows import Artifact, Container, Parameter, S3Artifact, Script
from hera.workflows import models as m

from backends.argo.names import parameter_name
from migrator.ir import Port, Stage, Task

WORKSPACE = "/workspace"
VOLUME = "workspace"
STAGE_DIR = "/tmp/argo-migrate-stage"
MODES = ("volume", "artifacts")


@dataclass(frozen=True)
class StorageOptions:
    mode: str = "volume"
    storage_class: str | None = None
    size: str = "10Gi"
    access_mode: str = "ReadWriteOnce"


def path_of(port: Port) -> str:
    return f"{WORKSPACE}/{(port.path or port.name).lstrip('/')}"


def path_parameter(port: Port) -> str:
    """The input parameter by which a task tells its (shared) template where a file port is."""
    return parameter_name(f"{port.name}-path")


def local_path(port: Port) -> str:
    return "{{inputs.parameters.%s}}" % path_parameter(port)


def path_arguments(task: Task, options: StorageOptions) -> dict[str, str]:
    """What a task passes for its file ports' paths (its own outputs; its inputs too with artifacts), so that tasks
    differing only in their paths share one template."""
    if isinstance(task.action, Stage):
        return {}
    ports = [p for p in task.outputs if p.type.is_path]
    if options.mode == "artifacts":
        ports += [p for p in task.inputs if p.type.is_path]
    return {path_parameter(p): path_of(p) for p in ports}


def file_ports(task: Task) -> list[Port]:
    return [p for p in (*task.inputs, *task.outputs) if p.type.is_path]


def uses_files(task: Task) -> bool:
    return isinstance(task.action, Stage) or bool(file_ports(task)) or bool(getattr(task.action, "in_workspace", False))


def stage_command(task: Task, options: StorageOptions) -> list[str]:
    """The shell of an Init or Finalize task: copy between the staging folder and the workspace."""
    assert isinstance(task.action, Stage)
    lines = ["set -e"]
    ports = task.outputs if task.action.direction == "in" else task.inputs
    for port in ports:
        staged, workspace = f"{STAGE_DIR}/{port.name}", path_of(port)
        if options.mode == "artifacts":
            continue  # the artifacts are placed at their workspace paths directly
        if task.action.direction == "in":
            lines.append(f"mkdir -p \"$(dirname '{workspace}')\" && cp -R '{staged}' '{workspace}'")
        else:
            lines.append(f"mkdir -p '{STAGE_DIR}' && cp -R '{workspace}' '{staged}'")
    return ["sh", "-c", "\n".join(lines) + "\n"]


def decorate(template: Any, task: Task, options: StorageOptions) -> None:
    """Mount the workspace, or declare the artifacts, of a template whose task reads or writes files."""
    if not uses_files(task) or not isinstance(template, Container | Script):
        return
    inputs: list[Any] = list(cast(Any, template.inputs) or [])
    outputs: list[Any] = list(cast(Any, template.outputs) or [])
    if options.mode == "volume":
        mounts = list(template.volume_mounts or [])
        mounts.append(m.VolumeMount(name=VOLUME, mount_path=WORKSPACE))
        template.volume_mounts = mounts
    if getattr(task.action, "in_workspace", False):
        template.working_dir = WORKSPACE
    if isinstance(task.action, Stage):
        if task.action.direction == "in":
            for port in task.outputs:
                where = path_of(port) if options.mode == "artifacts" else f"{STAGE_DIR}/{port.name}"
                inputs.append(S3Artifact(name=port.name, path=where, key=port.default or port.name))
                if options.mode == "artifacts":
                    outputs.append(Artifact(name=port.name, path=path_of(port)))
        else:
            for port in task.inputs:
                where = path_of(port) if options.mode == "artifacts" else f"{STAGE_DIR}/{port.name}"
                if options.mode == "artifacts":
                    inputs.append(Artifact(name=port.name, path=where))
                outputs.append(S3Artifact(name=port.name, path=where,
                                          key="{{workflow.name}}/outputs/%s" % port.name))
    elif options.mode == "artifacts":
        inputs = [i for i in inputs if not (isinstance(i, Parameter) and _is_path(task, str(i.name)))]
        inputs += [Artifact(name=p.name, path=local_path(p)) for p in task.inputs if p.type.is_path]
        outputs += [Artifact(name=p.name, path=local_path(p)) for p in task.outputs if p.type.is_path]
    if not isinstance(task.action, Stage):
        inputs += [Parameter(name=name) for name in path_arguments(task, options)]
    template.inputs = inputs or None
    template.outputs = outputs or None


def _is_path(task: Task, name: str) -> bool:
    port = task.input(name)
    return port is not None and port.type.is_path


def claim(options: StorageOptions) -> dict[str, Any]:
    """The workspace's volumeClaimTemplate (volume mode)."""
    spec: dict[str, Any] = {"accessModes": [options.access_mode], "resources": {"requests": {"storage": options.size}}}
    if options.storage_class:
        spec["storageClassName"] = options.storage_class
    return {"metadata": {"name": VOLUME}, "spec": spec}
