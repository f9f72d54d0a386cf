"""The Airflow frontend on small DAG files: each case is one construct and the graph Airflow would build from it."""

from __future__ import annotations

import textwrap

import pytest

from frontends.airflow import parse
from migrator.ir import ContainerRun, JoinRule, Noop, ParamRef, PythonCall, Workflow

AF3 = """
from airflow.sdk import DAG, dag, task, TaskGroup, chain, Label
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator
"""


def parse_one(body: str, header: str = AF3) -> tuple[Workflow, list[str]]:
    source = header + textwrap.dedent(body)
    result = parse("dags/example.py", source.encode())
    assert len(result.workflows) == 1, [str(d) for d in result.diagnostics]
    workflow = result.workflows[0]
    codes = [d.code for d in [*result.diagnostics, *workflow.diagnostics]]
    return workflow, codes


def edges(workflow: Workflow) -> set[tuple[str, str]]:
    return set(workflow.graph.edges)


CASES = {
    "with DAG as": (
        """
        with DAG("d") as dag:
            a = BashOperator(task_id="a", bash_command="echo a")
            b = EmptyOperator(task_id="b")
            a >> b
        """,
        {"a", "b"}, {("a", "b")},
    ),
    "with DAG without as": (
        """
        with DAG(dag_id="d", schedule=None):
            a = EmptyOperator(task_id="a")
            b = EmptyOperator(task_id="b")
            b << a
        """,
        {"a", "b"}, {("a", "b")},
    ),
    "dag = DAG with dag=dag": (
        """
        dag = DAG("d")
        a = EmptyOperator(task_id="a", dag=dag)
        b = EmptyOperator(task_id="b", dag=dag)
        a.set_downstream(b)
        """,
        {"a", "b"}, {("a", "b")},
    ),
    "set_upstream": (
        """
        with DAG("d"):
            a = EmptyOperator(task_id="a")
            b = EmptyOperator(task_id="b")
            b.set_upstream(a)
        """,
        {"a", "b"}, {("a", "b")},
    ),
    "lists on both sides and chains": (
        """
        with DAG("d"):
            a, b, c, d = [EmptyOperator(task_id=x) for x in "abcd"]
            a >> [b, c] >> d
        """,
        {"a", "b", "c", "d"}, {("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")},
    ),
    "list on the left": (
        """
        with DAG("d"):
            a, b, c = EmptyOperator(task_id="a"), EmptyOperator(task_id="b"), EmptyOperator(task_id="c")
            [a, b] >> c
        """,
        {"a", "b", "c"}, {("a", "c"), ("b", "c")},
    ),
    "chain()": (
        """
        with DAG("d"):
            a, b, c, d = [EmptyOperator(task_id=x) for x in "abcd"]
            chain(a, [b, c], d)
        """,
        {"a", "b", "c", "d"}, {("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")},
    ),
    "loop with f-string ids": (
        """
        with DAG("d"):
            end = EmptyOperator(task_id="end")
            for i in range(3):
                EmptyOperator(task_id=f"t_{i}") >> end
        """,
        {"t_0", "t_1", "t_2", "end"}, {("t_0", "end"), ("t_1", "end"), ("t_2", "end")},
    ),
    "task group members are group.task": (
        """
        with DAG("d"):
            start = EmptyOperator(task_id="start")
            with TaskGroup("g") as g:
                x = EmptyOperator(task_id="x")
                y = EmptyOperator(task_id="y")
                x >> y
            start >> g
        """,
        {"start", "g.x", "g.y"}, {("start", "g.x"), ("g.x", "g.y")},
    ),
    "@dag with TaskFlow data passing": (
        """
        @dag(schedule=None)
        def flow():
            @task
            def a():
                return 1

            @task
            def b(x):
                return x + 1

            b(a())

        flow()
        """,
        {"a", "b"}, {("a", "b")},
    ),
    "repeated TaskFlow calls get __n suffixes": (
        """
        @task
        def step():
            return 1

        with DAG("d"):
            step() >> step() >> step()
        """,
        {"step", "step__1", "step__2"}, {("step", "step__1"), ("step__1", "step__2")},
    ),
    "labels keep the edge": (
        """
        with DAG("d"):
            a = EmptyOperator(task_id="a")
            b = EmptyOperator(task_id="b")
            a >> Label("why") >> b
        """,
        {"a", "b"}, {("a", "b")},
    ),
    "helper function that builds operators": (
        """
        def make(name):
            return EmptyOperator(task_id=f"make_{name}")

        with DAG("d"):
            make("a") >> make("b")
        """,
        {"make_a", "make_b"}, {("make_a", "make_b")},
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_graph_matches_what_airflow_builds(name: str) -> None:
    body, tasks, expected_edges = CASES[name]
    workflow, codes = parse_one(body)
    assert set(workflow.graph.nodes) == tasks
    assert edges(workflow) == expected_edges
    assert not [c for c in codes if c in ("AM103", "AM104", "AM105", "AM106", "AM107", "AM115")], codes


def test_airflow2_import_paths_and_schedule_interval() -> None:
    header = """
from airflow import DAG
from airflow.operators.bash_operator import BashOperator
from airflow.operators.dummy_operator import DummyOperator
from airflow.operators.python_operator import PythonOperator
"""
    workflow, _ = parse_one(
        """
        dag = DAG("old", schedule_interval="@hourly")
        t = BashOperator(task_id="t", bash_command="echo", dag=dag)
        d = DummyOperator(task_id="d", dag=dag)
        t >> d
        """,
        header,
    )
    assert workflow.schedule is not None and workflow.schedule.cron == "0 * * * *"
    assert isinstance(workflow.task("t").action, ContainerRun)
    assert isinstance(workflow.task("d").action, Noop)


def test_bash_operator_becomes_bash_c_container() -> None:
    workflow, _ = parse_one(
        """
        with DAG("d"):
            BashOperator(task_id="t", bash_command="echo hi && exit 0", env={"A": "1"})
        """
    )
    action = workflow.task("t").action
    assert isinstance(action, ContainerRun)
    assert action.command == (("bash",), ("-c",))
    assert action.args == (("echo hi && exit 0",),)
    assert action.env == (("A", ("1",)),)


def test_params_jinja_becomes_a_parameter_reference() -> None:
    workflow, _ = parse_one(
        """
        with DAG("d", params={"who": "world"}):
            BashOperator(task_id="t", bash_command="echo {{ params.who }}!")
        """
    )
    action = workflow.task("t").action
    assert isinstance(action, ContainerRun)
    assert action.args == (("echo ", ParamRef("who"), "!"),)
    assert [p.name for p in workflow.parameters] == ["who"]


def test_untranslated_jinja_is_wrapped_and_diagnosed() -> None:
    workflow, codes = parse_one(
        """
        with DAG("d"):
            BashOperator(task_id="t", bash_command="echo {{ macros.uuid.uuid4() | upper }}")
        """
    )
    assert not workflow.task("t").native
    assert "AM111" in codes


def test_python_operator_carries_callable_helpers_and_imports() -> None:
    workflow, _ = parse_one(
        """
        import math
        FACTOR = 3

        def helper(x):
            return math.sqrt(x) * FACTOR

        def run(x, y=2):
            return helper(x) + y

        with DAG("d"):
            PythonOperator(task_id="p", python_callable=run, op_args=[4], op_kwargs={"y": 5})
        """
    )
    action = workflow.task("p").action
    assert isinstance(action, PythonCall)
    assert action.function == "run"
    assert "import math" in action.preamble and "FACTOR = 3" in action.preamble and "def helper" in action.preamble
    assert [(a.name, a.literal) for a in action.args] == [(None, "4"), ("y", "5")]
    namespace: dict[str, object] = {}
    exec(compile(action.preamble + "\n" + action.source, "<task>", "exec"), namespace)  # noqa: S102
    assert namespace["run"](4, y=5) == 11.0


def test_callable_reading_the_context_gets_it_rebuilt() -> None:
    workflow, codes = parse_one(
        """
        def show(ds, **kwargs):
            print(ds, kwargs["ti"].task_id, kwargs["params"]["n"])

        with DAG("d", params={"n": 3}):
            PythonOperator(task_id="p", python_callable=show)
        """
    )
    action = workflow.task("p").action
    assert workflow.task("p").native and "AM118" in codes
    assert isinstance(action, PythonCall)
    assert "_AIRFLOW_CONTEXT" in action.preamble
    assert {name for name, _ in action.env} >= {"AM_LOGICAL_DATE", "AM_RUN_ID"}


def test_callable_reading_context_argo_cannot_rebuild_is_wrapped() -> None:
    workflow, codes = parse_one(
        """
        def emit(outlet_events):
            outlet_events["x"].extra = {}

        with DAG("d"):
            PythonOperator(task_id="p", python_callable=emit)
        """
    )
    assert not workflow.task("p").native and "AM113" in codes


def test_retries_merge_default_args_and_task_overrides() -> None:
    workflow, _ = parse_one(
        """
        from datetime import timedelta
        args = {"retries": 2, "retry_delay": timedelta(minutes=2)}
        with DAG("d", default_args=args):
            a = EmptyOperator(task_id="a")
            b = EmptyOperator(task_id="b", retries=4, retry_exponential_backoff=True)
        """
    )
    a, b = workflow.task("a").retry, workflow.task("b").retry
    assert a is not None and (a.limit, a.delay_seconds, a.backoff_factor) == (2, 120, None)
    assert b is not None and (b.limit, b.delay_seconds, b.backoff_factor) == (4, 120, 2)


def test_trigger_rules_by_enum_and_string() -> None:
    workflow, _ = parse_one(
        """
        from airflow.utils.trigger_rule import TriggerRule
        with DAG("d"):
            a = EmptyOperator(task_id="a")
            b = EmptyOperator(task_id="b", trigger_rule=TriggerRule.ALL_DONE)
            c = EmptyOperator(task_id="c", trigger_rule="one_failed")
            a >> [b, c]
        """
    )
    assert workflow.task("b").join is JoinRule.ALL_DONE
    assert workflow.task("c").join is JoinRule.ONE_FAILED


@pytest.mark.parametrize(("schedule", "cron"), [('"@daily"', "0 0 * * *"), ('"5 4 * * 1"', "5 4 * * 1"),
                                                ("None", None), ('"@once"', None)])
def test_schedules(schedule: str, cron: str | None) -> None:
    workflow, _ = parse_one(f"""
        with DAG("d", schedule={schedule}):
            EmptyOperator(task_id="a")
        """)
    assert (workflow.schedule.cron if workflow.schedule else None) == cron


def test_timedelta_schedule_is_diagnosed_not_guessed() -> None:
    workflow, codes = parse_one(
        """
        from datetime import timedelta
        with DAG("d", schedule=timedelta(hours=2)):
            EmptyOperator(task_id="a")
        """
    )
    assert workflow.schedule is None and "AM108" in codes


def test_unknown_operator_is_wrapped_never_dropped() -> None:
    workflow, codes = parse_one(
        """
        from company.ops import LoadOperator
        with DAG("d"):
            LoadOperator(task_id="load", table="t") >> EmptyOperator(task_id="after")
        """
    )
    assert set(workflow.graph.nodes) == {"load", "after"}
    assert not workflow.task("load").native and "AM102" in codes


def test_kwargs_splat_is_wrapped() -> None:
    workflow, codes = parse_one(
        """
        import os
        with DAG("d"):
            BashOperator(task_id="t", **os.environ)
        """
    )
    assert not workflow.task("t").native and "AM109" in codes


def test_cycle_is_an_error_and_no_workflow() -> None:
    result = parse("c.py", (AF3 + textwrap.dedent("""
        with DAG("d"):
            a = EmptyOperator(task_id="a")
            b = EmptyOperator(task_id="b")
            a >> b >> a
        """)).encode())
    assert result.workflows == [] and [d.code for d in result.diagnostics] == ["AM105"]


def test_duplicate_task_id_is_an_error() -> None:
    _, codes = parse_one("""
        with DAG("d"):
            EmptyOperator(task_id="a")
            EmptyOperator(task_id="a")
        """)
    assert "AM106" in codes


@pytest.mark.parametrize(("source", "code"), [
    (b"with DAG(:\n", "AM100"),
    (b"", "AM101"),
    (b"import os\nprint('no dag here')\n", "AM101"),
    (b"\x89PNG\r\n\x1a\n\0\0", "AM002"),
    (b"# caf\xe9\n", "AM002"),
])
def test_bad_files_give_one_clear_diagnostic(source: bytes, code: str) -> None:
    result = parse("bad.py", source)
    assert result.workflows == []
    assert [d.code for d in result.diagnostics] == [code]
    assert result.diagnostics[0].line >= 0


def test_the_file_is_never_executed(tmp_path) -> None:
    marker = tmp_path / "executed"
    source = AF3 + f"open({str(marker)!r}, 'w').write('x')\nwith DAG('d'):\n    EmptyOperator(task_id='a')\n"
    parse("x.py", source.encode())
    assert not marker.exists()
