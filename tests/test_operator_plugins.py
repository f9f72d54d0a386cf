"""A user's own operators through the ``argo_migrate.operators`` entry point (the README's worked example)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from frontends.airflow import parse, plugins

PLUGIN = '''
from frontends.airflow.operators import row
from frontends.airflow.translate import Translation, templated
from migrator.ir import ContainerRun, text


def warehouse_load(task, ctx):
    table = templated(task.arg("table"), task, ctx, "table")
    return Translation(ContainerRun("ghcr.io/acme/loader:2", (text("load"),), (table,)))


ROWS = [row(("WarehouseLoadOperator",), warehouse_load, {"table"},
            "Runs the company loader image on the table.", 'WarehouseLoadOperator(task_id="l", table="t")')]
'''

BROKEN = "raise RuntimeError('broken plugin')\n"

DAG = b"""
from airflow.sdk import DAG
from acme.operators import WarehouseLoadOperator
with DAG("d"):
    WarehouseLoadOperator(task_id="load", table="events_{{ ds_nodash }}")
"""


def install(tmp_path: Path, name: str, module: str) -> None:
    """A distribution as pip would leave it: a module and a dist-info folder declaring the entry point."""
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(module))
    info = tmp_path / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[argo_migrate.operators]\n{name} = {name}:ROWS\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins.plugin_rows.cache_clear()
    plugins.PLUGIN_ERRORS.clear()
    yield tmp_path
    plugins.plugin_rows.cache_clear()
    plugins.PLUGIN_ERRORS.clear()
    for name in ("acme_rows", "broken_rows"):
        sys.modules.pop(name, None)


def test_a_plugin_row_translates_the_users_operator(site: Path) -> None:
    install(site, "acme_rows", PLUGIN)
    (workflow,) = parse("d.py", DAG).workflows
    task = workflow.task("load")
    assert task.native
    assert task.action.image == "ghcr.io/acme/loader:2"  # type: ignore[union-attr]


def test_without_the_plugin_the_operator_is_wrapped(site: Path) -> None:
    (workflow,) = parse("d.py", DAG).workflows
    assert not workflow.task("load").native


def test_a_broken_plugin_is_reported_and_the_batch_goes_on(site: Path) -> None:
    install(site, "broken_rows", BROKEN)
    import frontends.airflow as frontend

    frontend._reported_plugins = False
    result = parse("d.py", DAG)
    assert [d.code for d in result.diagnostics] == ["AM122"]
    assert not result.workflows[0].task("load").native
