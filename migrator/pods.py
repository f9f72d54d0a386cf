"""Pod settings that every source language shares: resource quantities, ``--default-resources``, the Kueue queue and
the GPU toleration, checked as Kubernetes checks them.

Imported by the CLI only when a migration runs (the IR imports networkx).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from migrator.ir import Resources

# Kubernetes' quantity syntax (k8s.io/apimachinery resource.Quantity) without a sign: a resource amount is never
# negative. Decimal SI (500m, 2, 1k, 1G), binary SI (512Mi, 1Gi) or a decimal exponent (1e3).
_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
QUANTITY = re.compile(rf"{_NUMBER}(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?{_NUMBER})?")
_DNS_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?")
_LABEL_NAME = re.compile(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?")

QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
GPU_RESOURCE = "nvidia.com/gpu"

# --default-resources names → Resources fields.
_DEFAULT_FIELDS = {"cpu": "cpu", "memory": "memory", "ephemeral-storage": "ephemeral_storage", "gpu": "gpu"}


@dataclass(frozen=True)
class PodOptions:
    """What the command line asks of every pod-creating template, whatever the source language."""

    default_resources: Resources | None = None  # requests for what a task's source leaves out
    queue: str | None = None  # Kueue LocalQueue: the label QUEUE_LABEL on every pod
    gpu_toleration: str | None = None  # taint key tolerated (Exists, NoSchedule) wherever a GPU is requested


def is_quantity(value: str) -> bool:
    return QUANTITY.fullmatch(value) is not None


def is_dns_label(name: str) -> bool:
    return len(name) <= 63 and _DNS_LABEL.fullmatch(name) is not None


def is_qualified_name(key: str) -> bool:
    """A Kubernetes label or taint key: ``[prefix/]name``, the prefix a DNS-1123 subdomain."""
    prefix, slash, name = key.rpartition("/")
    if slash and not (0 < len(prefix) <= 253 and all(is_dns_label(part) for part in prefix.split("."))):
        return False
    return len(name) <= 63 and _LABEL_NAME.fullmatch(name) is not None


def parse_default_resources(spec: str) -> Resources:
    """``cpu=500m,memory=512Mi[,ephemeral-storage=1Gi,gpu=1]`` → requests; ValueError with a one-line reason."""
    values: dict[str, str | int] = {}
    for item in spec.split(","):
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not key or not value:
            raise ValueError(f"{item.strip()!r} is not NAME=VALUE")
        name = _DEFAULT_FIELDS.get(key)
        if name is None:
            raise ValueError(f"unknown resource {key!r} (expected cpu, memory, ephemeral-storage or gpu)")
        if name in values:
            raise ValueError(f"{key} is given twice")
        if name == "gpu":
            if not re.fullmatch(r"[0-9]+", value) or int(value) < 1:
                raise ValueError(f"gpu={value!r} is not a whole number of GPUs (1 or more)")
            values[name] = int(value)
        elif not is_quantity(value):
            raise ValueError(f"{key}={value!r} is not a Kubernetes quantity (such as 500m, 2, 512Mi, 1Gi)")
        else:
            values[name] = value
    return Resources(**values)  # type: ignore[arg-type]


def with_defaults(own: Resources | None, defaults: Resources | None) -> Resources | None:
    """A task's resources with ``defaults`` filling, field by field, what the task leaves out.

    A default request never fills a resource whose limit the task gives: Kubernetes then takes the limit as the
    request, and a default above that limit would make the pod invalid.
    """
    if defaults is None or own is None:
        return own or defaults

    def request(value: str | None, limit: str | None, default: str | None) -> str | None:
        return value if value is not None or limit is not None else default

    return Resources(
        cpu=request(own.cpu, own.cpu_limit, defaults.cpu),
        memory=request(own.memory, own.memory_limit, defaults.memory),
        gpu=own.gpu if own.gpu is not None else defaults.gpu,
        ephemeral_storage=request(own.ephemeral_storage, own.ephemeral_storage_limit, defaults.ephemeral_storage),
        cpu_limit=own.cpu_limit if own.cpu_limit is not None else defaults.cpu_limit,
        memory_limit=own.memory_limit if own.memory_limit is not None else defaults.memory_limit,
        ephemeral_storage_limit=own.ephemeral_storage_limit if own.ephemeral_storage_limit is not None
        else defaults.ephemeral_storage_limit,
    )
