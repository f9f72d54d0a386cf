"""Integration wrappers: how to run a construct with its original engine from an Argo step.

The catalogue proper is one WorkflowTemplate per engine (``catalogue.py``: Airflow task and DAG, SLURM job, Spark
application, an engine in a pod, a Python function), called by ``templateRef``. :data:`CATALOGUE` here holds the
wrapped steps that are plain container templates instead (``ssh``): a row turns the IR's
:class:`~migrator.ir.Wrapped` action into a neutral :class:`WrapperSpec` (image, command, volumes) that the Argo
backend renders, and documents what the cluster must provide.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from migrator.ir import Wrapped


@dataclass(frozen=True)
class ConfigMapMount:
    volume: str
    config_map: str
    mount_path: str


@dataclass(frozen=True)
class SecretMount:
    volume: str
    secret: str
    mount_path: str


@dataclass(frozen=True)
class WrapperSpec:
    image: str
    command: tuple[str, ...]
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    config_maps: tuple[ConfigMapMount, ...] = ()
    secrets: tuple[SecretMount, ...] = ()
    secret_env: tuple[tuple[str, str, str, bool], ...] = ()  # (variable, secret, key, optional)


@dataclass(frozen=True)
class WrapperOptions:
    airflow3_image: str = "apache/airflow:3.3.2"
    airflow2_image: str = "apache/airflow:2.10.5"
    airflow_image_override: str | None = None  # --airflow-image: one image for every DAG file
    dags_config_map: str = "argo-migrate-dags"
    ssh_image: str = "kroniak/ssh-client:3.19"
    python_image: str = "python:3.12-slim"
    uv_image: str = "ghcr.io/astral-sh/uv:python3.12-bookworm-slim"
    slurm_image: str = "instrumentisto/rsync-ssh:alpine3.21"  # openssh-client and rsync

    @property
    def airflow_image(self) -> str:
        return self.airflow_image_override or self.airflow3_image

    def airflow_image_for(self, major: int) -> str:
        return self.airflow_image_override or (self.airflow2_image if major == 2 else self.airflow3_image)


@dataclass(frozen=True)
class WrapperRow:
    engine: str
    build: Callable[[Wrapped, WrapperOptions], WrapperSpec]
    doc: str
    requires: tuple[str, ...] = field(default_factory=tuple)


def _lazy(module: str) -> Callable[[Wrapped, WrapperOptions], WrapperSpec]:
    """The ``build`` function of a wrapper module, imported on first use (a row costs nothing until used)."""

    def build(action: Wrapped, options: WrapperOptions) -> WrapperSpec:
        spec: WrapperSpec = importlib.import_module(module).build(action, options)
        return spec

    return build


# Wrapped steps rendered as a plain container template. The engines of the catalogue proper (Airflow, SLURM,
# Spark, …) are WorkflowTemplates called by templateRef: backends/wrappers/catalogue.py.
CATALOGUE: dict[str, WrapperRow] = {row.engine: row for row in (
    WrapperRow(
        engine="ssh",
        build=_lazy("backends.wrappers.ssh"),
        doc="Run a command on a remote host over ssh (a login node, a SLURM head node); the host, user and "
            "private key come from a Secret mounted into the pod.",
        requires=("a Secret with keys host, login and private_key (name given by the source construct)",),
    ),
)}


def wrapper_spec(action: Wrapped, options: WrapperOptions) -> WrapperSpec:
    return CATALOGUE[action.engine].build(action, options)
