"""The integration-wrapper catalogue: how to run a construct with its original engine from an Argo step.

One row per engine. A row turns the IR's :class:`~migrator.ir.Wrapped` action into a neutral
:class:`WrapperSpec` (image, command, volumes) that the Argo backend renders as a container template; the row
documents its runtime contract (what the cluster must provide) so that the report and docs can say it.
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
    airflow_image: str = "apache/airflow:3.1.0"
    dags_config_map: str = "argo-migrate-dags"
    ssh_image: str = "kroniak/ssh-client:3.19"
    python_image: str = "python:3.12-slim"


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


CATALOGUE: dict[str, WrapperRow] = {row.engine: row for row in (
    WrapperRow(
        engine="airflow-task",
        build=_lazy("backends.wrappers.airflow_task"),
        doc="Run one Airflow task with `airflow tasks test` in a pod, the DAG file mounted from a ConfigMap.",
        requires=("a ConfigMap holding the DAG files (default name argo-migrate-dags)",),
    ),
    WrapperRow(
        engine="airflow-dag",
        build=_lazy("backends.wrappers.airflow_dag"),
        doc="Trigger the whole DAG on an existing Airflow over its REST API (v2 for Airflow 3, v1 for Airflow 2), "
            "mirror the run's state into the step, stop the Airflow run when the workflow is stopped.",
        requires=("a Secret airflow-api with keys url and token, or username and password",),
    ),
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
