"""Containers Airflow already describes: KubernetesPodOperator and DockerOperator become container templates as is."""

from __future__ import annotations

import json
import re
from typing import Any

from frontends.airflow.model import TaskDraft
from frontends.airflow.translate import TranslateContext, Translation, Untranslatable, templated
from frontends.airflow.translators.secrets import env_text
from migrator.ir import ContainerRun, Resources, Text, text

# KubernetesPodOperator argument → Kubernetes field, for values that are plain data (dicts and lists).
_PASSTHROUGH = {
    "node_selector": "nodeSelector",
    "tolerations": "tolerations",
    "affinity": "affinity",
    "volumes": "volumes",
    "volume_mounts": "volumeMounts",
    "image_pull_policy": "imagePullPolicy",
    "service_account_name": "serviceAccountName",
    "security_context": "securityContext",
    "container_security_context": "containerSecurityContext",
}
_QUANTITY = re.compile(r"^[0-9.]+[a-zA-Z]*$")


def _strings(value: Any, task: TaskDraft, ctx: TranslateContext, name: str) -> tuple[Text, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (templated(value, task, ctx, name),)
    if isinstance(value, list | tuple):
        return tuple(templated(v, task, ctx, f"{name}[{i}]") for i, v in enumerate(value))
    raise Untranslatable("AM103", f"{name} is only known at run time")


def _env(value: Any, task: TaskDraft, ctx: TranslateContext) -> tuple[tuple[str, Text], ...]:
    if value is None:
        return ()
    if isinstance(value, dict):
        return tuple((str(k), env_text(str(k), v, task, ctx, f"env_vars[{k!r}]"))
                     for k, v in sorted(value.items(), key=lambda kv: str(kv[0])))
    raise Untranslatable("AM115", "env_vars given as Kubernetes objects are not translated yet")


def _plain_data(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def resources(value: Any) -> Resources | None:
    """``container_resources`` as a dict ``{"limits": {...}, "requests": {...}}`` (or flat cpu/memory)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Untranslatable("AM103", "container_resources is not a plain dict (a V1ResourceRequirements object?)")
    source = value.get("limits") or value.get("requests") or value
    cpu, memory = source.get("cpu"), source.get("memory")
    gpu = source.get("nvidia.com/gpu")
    for quantity in (cpu, memory):
        if quantity is not None and not _QUANTITY.match(str(quantity)):
            raise Untranslatable("AM103", f"resource quantity {quantity!r} is not a Kubernetes quantity")
    return Resources(str(cpu) if cpu is not None else None, str(memory) if memory is not None else None,
                     int(gpu) if gpu is not None else None)


def kubernetes_pod(task: TaskDraft, ctx: TranslateContext) -> Translation:
    image = task.arg("image")
    if not isinstance(image, str):
        raise Untranslatable("AM103", "image is only known at run time")
    k8s: list[tuple[str, str]] = []
    for arg, field in _PASSTHROUGH.items():
        value = task.arg(arg)
        if value is None:
            continue
        if not _plain_data(value):
            raise Untranslatable("AM115", f"{arg} given as Kubernetes client objects is not translated yet")
        k8s.append((field, json.dumps(value, sort_keys=True)))
    action = ContainerRun(
        image=image,
        command=_strings(task.arg("cmds"), task, ctx, "cmds"),
        args=_strings(task.arg("arguments"), task, ctx, "arguments"),
        env=_env(task.arg("env_vars"), task, ctx),
        kubernetes=tuple(k8s),
    )
    return Translation(action, resources=resources(task.arg("container_resources")))


def docker_operator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    image = task.arg("image")
    if not isinstance(image, str):
        raise Untranslatable("AM103", "image is only known at run time")
    command = task.arg("command")
    args: tuple[Text, ...] = ()
    cmd: tuple[Text, ...] = ()
    if isinstance(command, str):
        # Docker runs a string command through the image's shell form.
        cmd, args = (text("/bin/sh"), text("-c")), (templated(command, task, ctx, "command"),)
    elif command is not None:
        args = _strings(command, task, ctx, "command")
    entrypoint = task.arg("entrypoint")
    if entrypoint is not None:
        cmd = _strings(entrypoint, task, ctx, "entrypoint")
    action = ContainerRun(image=image, command=cmd, args=args, env=_env(task.arg("environment"), task, ctx))
    return Translation(action)
