"""Translations of issue #4's constructs, each checked on the IR (and, where it matters, on the emitted YAML)."""

from __future__ import annotations

import json
import textwrap

import pytest

from backends.argo.emit import EmitOptions, emit
from frontends.airflow import parse
from migrator.ir import (
    ContainerRun,
    ItemRef,
    JoinRule,
    OutputRef,
    ParamRef,
    PythonCall,
    RunMeta,
    SecretRef,
    Wait,
    Workflow,
)
from migrator.passes import apply_strategy
from migrator.secrets import hide_secrets

HEADER = """
from datetime import datetime, timedelta
from airflow.sdk import DAG, dag, task, Variable
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator, BranchPythonOperator, ShortCircuitOperator
from airflow.providers.standard.sensors.time_delta import TimeDeltaSensor
"""


def one(body: str) -> tuple[Workflow, list[str]]:
    result = parse("dags/x.py", (HEADER + textwrap.dedent(body)).encode())
    assert len(result.workflows) == 1, [str(d) for d in result.diagnostics]
    workflow = result.workflows[0]
    return workflow, [str(d) for d in [*result.diagnostics, *workflow.diagnostics]]


def document(workflow: Workflow) -> dict:
    return emit(workflow, "x", EmitOptions()).document


def dag_tasks(doc: dict) -> dict[str, dict]:
    spec = doc["spec"].get("workflowSpec", doc["spec"])
    main = next(t for t in spec["templates"] if t["name"] == "main")
    return {t["name"]: t for t in main["dag"]["tasks"]}


@pytest.mark.parametrize(("jinja", "expected"), [
    ("{{ ds }}", (RunMeta("logical_date", "%Y-%m-%d"),)),
    ("{{ ds_nodash }}", (RunMeta("logical_date", "%Y%m%d"),)),
    ("{{ macros.ds_add(ds, 3) }}", (RunMeta("logical_date", "%Y-%m-%d", 3),)),
    ("{{ run_id }}", (RunMeta("run_id"),)),
    ("{{ params.n }}", (ParamRef("n"),)),
    ("{{ var.value.bucket }}", (ParamRef("var_bucket"),)),
    ("{{ conn.db.password }}", (SecretRef("airflow-conn-db", "password"),)),
    ("{{ dag.dag_id }}-{{ task.task_id }}", ("d", "-", "t")),
])
def test_jinja_table(jinja: str, expected: tuple) -> None:
    workflow, _ = one(f"""
        with DAG("d", params={{"n": 1}}):
            BashOperator(task_id="t", bash_command="{jinja}")
        """)
    action = workflow.task("t").action
    assert isinstance(action, ContainerRun) and action.args == (expected,)


def test_jinja_dates_render_as_argo_creation_time_and_run_name() -> None:
    workflow, _ = one("""
        with DAG("d"):
            BashOperator(task_id="t", bash_command="echo {{ ds }} {{ run_id }} {{ macros.ds_add(ds, -1) }}")
        """)
    args = document(workflow)["spec"]["templates"][1]["container"]["args"][0]
    assert args.startswith("echo {{workflow.creationTimestamp.Y}}-{{workflow.creationTimestamp.m}}-"
                           "{{workflow.creationTimestamp.d}} {{workflow.name}} {{=sprig.date('2006-01-02'")
    assert "sprig.dateModify('-24h'" in args and "workflow.creationTimestamp.RFC3339" in args


def test_variables_come_from_a_config_map_and_connections_from_secrets() -> None:
    workflow, _ = one("""
        with DAG("d"):
            BashOperator(task_id="t", bash_command="load {{ var.value.bucket }} {{ conn.db.password }}")
        """)
    doc = document(workflow)
    param = next(p for p in doc["spec"]["arguments"]["parameters"] if p["name"] == "var_bucket")
    assert param["valueFrom"] == {"configMapKeyRef": {"name": "airflow-variables", "key": "bucket"}}
    container = doc["spec"]["templates"][1]["container"]
    assert container["args"] == ["load {{workflow.parameters.var_bucket}} $(AM_SECRET_AIRFLOW_CONN_DB_PASSWORD)"]
    assert container["env"][0] == {"name": "AM_SECRET_AIRFLOW_CONN_DB_PASSWORD",
                                   "valueFrom": {"secretKeyRef": {"name": "airflow-conn-db", "key": "password"}}}


def test_variable_get_at_module_level_is_a_parameter_not_a_guess() -> None:
    workflow, _ = one("""
        BUCKET = Variable.get("bucket")
        with DAG("d"):
            BashOperator(task_id="t", bash_command=BUCKET)
        """)
    assert workflow.task("t").action.args == ((ParamRef("var_bucket"),),)  # type: ignore[union-attr]
    assert [p.config_map for p in workflow.parameters] == [("airflow-variables", "bucket")]


def test_credentials_in_env_become_secret_references_with_a_warning() -> None:
    workflow, messages = one("""
        with DAG("d"):
            BashOperator(task_id="t", bash_command="run", env={"DB_PASSWORD": "hunter2", "URL": "postgres://u:p@h/db"})
        """)
    hidden = hide_secrets(workflow)  # the language-neutral pass the pipeline runs after the frontend
    text = json.dumps(document(hidden))
    assert "hunter2" not in text and "u:p@h" not in text
    assert sum(d.code == "AM121" for d in hidden.diagnostics) == 2


@pytest.mark.parametrize(("expand", "items", "ref"), [
    ("n=[1, 2, 3]", ("1", "2", "3"), ItemRef()),
    ("n=[1, 2], m=['a']", ('{"m": "a", "n": 1}', '{"m": "a", "n": 2}'), ItemRef("n")),
])
def test_expand_over_literals_is_with_items(expand: str, items: tuple, ref: ItemRef) -> None:
    workflow, _ = one(f"""
        @task
        def f(n, m=None):
            return n

        with DAG("d"):
            f.expand({expand})
        """)
    task = workflow.task("f")
    assert task.loop is not None and task.loop.items == items
    assert isinstance(task.action, PythonCall)
    assert {a.name: a.ref for a in task.action.args}["n"] == ref


def test_expand_over_an_upstream_output_is_with_param_and_consumers_get_the_aggregate() -> None:
    workflow, _ = one("""
        @task
        def files():
            return ["a", "b"]

        @task
        def size(name):
            return len(name)

        @task
        def total(sizes):
            return sum(sizes)

        with DAG("d"):
            total(size.expand(name=files()))
        """)
    assert workflow.task("size").loop.over == OutputRef("files")  # type: ignore[union-attr]
    doc = document(workflow)
    tasks = dag_tasks(doc)
    assert tasks["size"]["withParam"] == "{{tasks.files.outputs.parameters.return_value}}"
    source = next(t for t in doc["spec"]["templates"] if t["name"] == "total")["script"]["source"]
    assert "total(_am_list('AM_ARG_0'))" in source


def test_branch_gates_its_direct_downstream_tasks() -> None:
    workflow, _ = one("""
        def choose():
            return "b"

        with DAG("d"):
            br = BranchPythonOperator(task_id="br", python_callable=choose)
            a, b = EmptyOperator(task_id="a"), EmptyOperator(task_id="b")
            join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
            br >> [a, b] >> join
        """)
    tasks = dag_tasks(document(workflow))
    assert tasks["a"]["when"] == "{{tasks.br.outputs.parameters.follow_0}} == true"
    assert tasks["b"]["when"] == "{{tasks.br.outputs.parameters.follow_1}} == true"
    assert tasks["join"]["depends"] == "a && b"
    assert tasks["join"]["when"] == "{{tasks.a.status}} == Succeeded || {{tasks.b.status}} == Succeeded"


def test_short_circuit_gates_every_descendant_by_default() -> None:
    workflow, _ = one("""
        with DAG("d"):
            sc = ShortCircuitOperator(task_id="sc", python_callable=lambda: False)
            sc >> EmptyOperator(task_id="a") >> EmptyOperator(task_id="b", trigger_rule="all_done")
        """)
    tasks = dag_tasks(document(workflow))
    assert "{{tasks.sc.outputs.parameters.proceed}} == true" in tasks["a"]["when"]
    assert tasks["b"]["when"] == "{{tasks.sc.outputs.parameters.proceed}} == true"


def test_time_delta_sensor_is_a_suspend() -> None:
    workflow, _ = one("""
        with DAG("d"):
            TimeDeltaSensor(task_id="wait", delta=timedelta(minutes=5))
        """)
    assert workflow.task("wait").action == Wait(seconds=300)


def test_dag_callbacks_run_in_a_tolerant_exit_handler() -> None:
    workflow, _ = one("""
        def alert(context):
            print("failed:", context["dag_run"].run_id)

        with DAG("d", on_failure_callback=alert):
            EmptyOperator(task_id="a")
        """)
    doc = document(workflow)
    assert doc["spec"]["onExit"] == "exit-handler"
    handler = next(t for t in doc["spec"]["templates"] if t["name"] == "exit-handler")
    (task,) = handler["dag"]["tasks"]
    assert task["when"] == "{{workflow.status}} != Succeeded"
    assert task["continueOn"] == {"error": True, "failed": True}


def test_max_active_tasks_pools_and_labels() -> None:
    workflow, _ = one("""
        from airflow.sdk import Label
        with DAG("d", max_active_tasks=3):
            a = EmptyOperator(task_id="a", pool="db")
            a >> Label("then") >> EmptyOperator(task_id="b")
        """)
    doc = document(workflow)
    assert doc["spec"]["parallelism"] == 3
    template_name = dag_tasks(doc)["a"]["template"]
    template = next(t for t in doc["spec"]["templates"] if t["name"] == template_name)
    assert template["synchronization"] == {"semaphores": [{"configMapKeyRef": {"name": "argo-migrate-semaphores",
                                                                                 "key": "db"}}]}
    assert json.loads(doc["metadata"]["annotations"]["argo-migrate.io/edge-labels"]) == {"a >> b": "then"}


@pytest.mark.parametrize(("delta", "start", "cron"), [
    ("timedelta(hours=1)", "datetime(2024, 1, 1, 0, 30)", "30 * * * *"),
    ("timedelta(days=1)", "datetime(2024, 1, 1, 6)", "0 6 * * *"),
    ("timedelta(minutes=15)", "datetime(2024, 1, 1)", "*/15 * * * *"),
    ("timedelta(hours=5)", "datetime(2024, 1, 1)", None),
])
def test_timedelta_schedules_become_cron_only_when_exact(delta: str, start: str, cron: str | None) -> None:
    workflow, messages = one(f"""
        with DAG("d", schedule={delta}, start_date={start}):
            EmptyOperator(task_id="a")
        """)
    assert (workflow.schedule.cron if workflow.schedule else None) == cron
    assert (cron is None) == any("AM108" in m for m in messages)


def test_teardown_join_rule_and_context_manager_edges() -> None:
    workflow, _ = one("""
        from airflow.sdk import setup, teardown
        with DAG("d"):
            @setup
            def create():
                return 1

            @teardown
            def delete(x):
                pass

            @task
            def work():
                pass

            with delete(create()):
                work()
        """)
    assert set(workflow.graph.edges) == {("create", "delete"), ("create", "work"), ("work", "delete")}
    assert workflow.task("delete").join is JoinRule.ALL_DONE_SETUP_SUCCESS


def test_strategies() -> None:
    source = """
        from company import CustomOperator
        with DAG("d"):
            EmptyOperator(task_id="a") >> CustomOperator(task_id="c")
        """
    workflow, _ = one(source)
    migrated = apply_strategy("migrate")(workflow)
    assert migrated.graph.number_of_nodes() == 0 and any(d.code == "AM124" for d in migrated.diagnostics)
    integrated = apply_strategy("integrate")(workflow)
    (task,) = integrated.tasks()
    assert task.action.engine == "airflow-dag" and not task.native  # type: ignore[union-attr]
    assert apply_strategy("auto")(workflow).graph.number_of_nodes() == 2


def test_auto_strategy_integrates_a_dag_whose_tasks_are_only_known_at_run_time() -> None:
    workflow, _ = one("""
        import os
        with DAG("d"):
            for name in os.listdir("/configs"):
                EmptyOperator(task_id=name)
            EmptyOperator(task_id="always")
        """)
    assert workflow.incomplete
    (task,) = apply_strategy("auto")(workflow).tasks()
    assert task.action.engine == "airflow-dag"  # type: ignore[union-attr]


def test_mapped_task_group_is_a_looped_group_whose_tasks_run_once_per_item() -> None:
    workflow, _ = one("""
        from airflow.sdk import task_group
        with DAG("d"):
            @task_group
            def op(num):
                @task
                def add_1(num):
                    return num + 1

                @task
                def mul_2(num):
                    return num * 2

                return mul_2(add_1(num))

            op.expand(num=[1, 2, 3])
        """)
    add, mul = workflow.task("op.add_1"), workflow.task("op.mul_2")
    group = workflow.groups["op"]
    assert group.loop is not None and group.loop.items == ("1", "2", "3")
    assert add.group == mul.group == "op" and add.loop is None and mul.loop is None
    assert add.action.args[0].ref == ItemRef()  # type: ignore[union-attr]
    # Inside one iteration, mul_2 reads that iteration's add_1: one value, not the list of all.
    assert mul.action.args[0].ref == OutputRef("op.add_1")  # type: ignore[union-attr]
    assert not workflow.fanned_for("op.add_1", mul)
