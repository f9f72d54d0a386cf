"""Containers Airflow already describes: KubernetesPodOperator and DockerOperator become container templates as is."""

from __future__ import annotations

import json
import re
from typing import Any

from frontends.airflow.model import TaskDraft
from frontends.airflow.translate import TranslateContext, Translation, Untranslatable, templated
from frontends.airflow.translators.secrets import env_text
from migrator.ir import ContainerRun, Resources, Text, text
from migrator.pods import GPU_RESOURCE, is_quantity

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


# Kubernetes resource names → (request field, limit field) of Resources; the GPU count is one field (both).
_RESOURCE_FIELDS = {
    "cpu": ("cpu", "cpu_limit"),
    "memory": ("memory", "memory_limit"),
    "ephemeral-storage": ("ephemeral_storage", "ephemeral_storage_limit"),
    GPU_RESOURCE: ("gpu", "gpu"),
}
# Airflow 1's flat resource keys (KubernetesPodOperator's `resources`, executor_config's "KubernetesExecutor").
_LEGACY_KEYS = {
    "request_cpu": ("requests", "cpu"), "limit_cpu": ("limits", "cpu"),
    "request_memory": ("requests", "memory"), "limit_memory": ("limits", "memory"),
    "request_ephemeral_storage": ("requests", "ephemeral-storage"),
    "limit_ephemeral_storage": ("limits", "ephemeral-storage"),
    "limit_gpu": ("limits", GPU_RESOURCE),
}


def requirements(requests: dict[Any, Any], limits: dict[Any, Any], what: str) -> tuple[Resources | None, list[str]]:
    """Kubernetes requests and limits → Resources (requests → request fields, limits → the ``*_limit`` fields),
    and the notes on what Resources cannot hold. Raises Untranslatable for a value that is not a quantity."""
    values: dict[str, str | int] = {}
    notes: list[str] = []
    for kind, given in (("requests", requests), ("limits", limits)):
        for name, quantity in sorted(given.items(), key=lambda kv: str(kv[0])):
            fields = _RESOURCE_FIELDS.get(str(name))
            if fields is None:
                notes.append(f"{what}: resource {name!r} is not translated")
                continue
            if quantity is None:
                continue
            if isinstance(quantity, bool) or not isinstance(quantity, str | int | float):
                raise Untranslatable("AM103", f"{what}: {kind} of {name!r} is only known at run time")
            if fields[0] == "gpu":
                if not re.fullmatch(r"[0-9]+", str(quantity)):
                    raise Untranslatable("AM103", f"{what}: GPU count {quantity!r} is not a whole number")
                # Kubernetes requires an extended resource's request to equal its limit: one count is both.
                values.setdefault("gpu", int(str(quantity)))
                continue
            if not is_quantity(str(quantity)):
                raise Untranslatable("AM103", f"{what}: resource quantity {quantity!r} is not a Kubernetes quantity")
            values[fields[0] if kind == "requests" else fields[1]] = str(quantity)
    return (Resources(**values) if values else None), notes  # type: ignore[arg-type]


def legacy_requirements(value: dict[Any, Any], what: str) -> tuple[Resources | None, list[str], list[str]]:
    """Airflow 1's flat keys (``request_cpu``, ``limit_memory``, ``limit_gpu``…) → Resources, notes and the keys
    that are not resources (left to the caller)."""
    split: dict[str, dict[str, Any]] = {"requests": {}, "limits": {}}
    others: list[str] = []
    for key, quantity in value.items():
        target = _LEGACY_KEYS.get(str(key))
        if target is None:
            others.append(str(key))
        else:
            split[target[0]][target[1]] = quantity
    found, notes = requirements(split["requests"], split["limits"], what)
    return found, notes, others


def resources(value: Any) -> tuple[Resources | None, list[str]]:
    """``container_resources`` as a dict ``{"requests": {...}, "limits": {...}}`` (flat cpu/memory: requests; Airflow
    1's ``request_cpu``/``limit_memory``… keys too), with notes on what is not translated."""
    if value is None:
        return None, []
    if not isinstance(value, dict):
        raise Untranslatable("AM103", "container_resources is not a plain dict (a V1ResourceRequirements object?)")
    what = "container_resources"
    if "requests" in value or "limits" in value:
        requests, limits = value.get("requests") or {}, value.get("limits") or {}
        if not isinstance(requests, dict) or not isinstance(limits, dict):
            raise Untranslatable("AM103", "container_resources requests or limits are not plain dicts")
        found, notes = requirements(requests, limits, what)
        notes += [f"{what}: {key!r} is not translated" for key in sorted(map(str, value))
                  if key not in ("requests", "limits")]
        return found, notes
    if any(str(key) in _LEGACY_KEYS for key in value):
        found, notes, others = legacy_requirements(value, what)
        return found, notes + [f"{what}: {key!r} is not translated" for key in sorted(others)]
    return requirements(value, {}, what)


def kubernetes_pod(task: TaskDraft, ctx: TranslateContext) -> Translation:
    image = task.arg("image")
    if not isinstance(image, str):
        raise Untranslatable("AM103", "image is only known at run time")
    if not image.strip():
        raise Untranslatable("AM115", "the image is empty: a pod needs one")
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
    found, notes = resources(task.arg("container_resources"))
    return Translation(action, resources=found, notes=tuple(("AM110", note) for note in notes))


def docker_operator(task: TaskDraft, ctx: TranslateContext) -> Translation:
    image = task.arg("image")
    if not isinstance(image, str):
        raise Untranslatable("AM103", "image is only known at run time")
    if not image.strip():
        raise Untranslatable("AM115", "the image is empty: a pod needs one")
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


def executor_resources(value: Any) -> tuple[Resources | None, list[str], bool]:
    """``executor_config``'s Airflow 1 form ``{"KubernetesExecutor": {"request_cpu": …, "limit_memory": …}}``: the
    resources of the pod the task runs in, notes on what is not translated, and whether the value was understood
    (False: the caller reports the whole argument). A ``pod_override`` is a Kubernetes client object, which the
    static evaluator does not know."""
    if not isinstance(value, dict) or not isinstance(value.get("KubernetesExecutor"), dict):
        return None, [], False
    what = "executor_config"
    try:
        found, notes, others = legacy_requirements(value["KubernetesExecutor"], what)
    except Untranslatable as why:  # a task is never wrapped for its executor's settings
        return None, [why.message], True
    notes += [f"{what}: KubernetesExecutor {key!r} is not translated" for key in sorted(others)]
    notes += [f"{what}: {key!r} is not translated" for key in sorted(map(str, value)) if key != "KubernetesExecutor"]
    return found, notes, True
