"""Step definitions shared by tasks: tasks whose actions differ only in values become one template with typed
inputs, each task passing its own values."""

from __future__ import annotations

import textwrap
from pathlib import Path

import yaml

from migrator.cli import main
from migrator.definitions import share_definitions
from migrator.ir import (
    JSON,
    STRING,
    ContainerRun,
    InputRef,
    PyArg,
    PythonCall,
    SourceLoc,
    Task,
    Workflow,
    text,
)

TASKFLOW = textwrap.dedent("""\
    from airflow.decorators import dag, task

    @task()
    def hello(name: str):
        print(f"Hello {name}!")

    @dag(dag_id="dag_example")
    def dag_example():
        t1 = hello(name="hello-1")
        t2 = hello(name="hello-2")
        t1 >> t2

    dag_instance = dag_example()
    """)


def test_the_issues_taskflow_example_is_one_hello_template_in_at_most_fifty_lines(tmp_path: Path) -> None:
    (tmp_path / "dag_example.py").write_text(TASKFLOW)
    assert main(["airflow", str(tmp_path / "dag_example.py"), "-o", str(tmp_path / "out"), "--quiet"]) == 0
    text_out = (tmp_path / "out" / "dag-example.yaml").read_text()
    assert len(text_out.splitlines()) <= 50
    spec = yaml.safe_load(text_out)["spec"]
    leaves = [t for t in spec["templates"] if "dag" not in t]
    assert [t["name"] for t in leaves] == ["hello"]
    assert leaves[0]["inputs"]["parameters"] == [{"name": "name"}]
    tasks = spec["templates"][0]["dag"]["tasks"]
    assert [(t["template"], t["arguments"]["parameters"][0]["value"]) for t in tasks] == \
        [("hello", "hello-1"), ("hello", "hello-2")]


def _bash(i: int, command: str, image: str = "bash:5.2") -> Task:
    return Task(f"t{i}", SourceLoc("d.py", i), "BashOperator",
                ContainerRun(image, (text("bash"), text("-c")), (text(command),)))


def _workflow(*tasks: Task) -> Workflow:
    workflow = Workflow(id="w", origin=SourceLoc("d.py"))
    for task in tasks:
        workflow.add_task(task)
    return workflow


def test_values_that_differ_become_inputs_and_equal_ones_stay() -> None:
    shared = share_definitions(_workflow(_bash(1, "echo 1"), _bash(2, "echo 2")))
    one, two = shared.task("t1"), shared.task("t2")
    assert one.action == two.action  # one definition
    assert isinstance(one.action, ContainerRun) and one.action.args == ((InputRef("args-0"),),)
    assert one.action.command == (("bash",), ("-c",))  # equal in both: not an input
    assert (one.inputs, one.arguments) == (((one.inputs[0]),), (("args-0", ("echo 1",)),))
    assert one.inputs[0].type == STRING and two.arguments == (("args-0", ("echo 2",)),)


def test_what_runs_must_be_equal_to_share() -> None:
    shared = share_definitions(_workflow(_bash(1, "echo 1"), _bash(2, "echo 2", image="alpine:3")))
    assert shared.task("t1").inputs == () and shared.task("t2").inputs == ()


def test_template_text_is_not_lifted() -> None:
    shared = share_definitions(_workflow(_bash(1, "echo {{ x }} 1"), _bash(2, "echo {{ x }} 2")))
    assert shared.task("t1").inputs == ()  # a backend could not pass "{{" through its own templating unchanged


def test_python_arguments_are_typed_by_their_value() -> None:
    def call(i: int, literal: str) -> Task:
        return Task(f"p{i}", SourceLoc("d.py", i), "task", PythonCall("f", "def f(x):\n    return x\n",
                                                                      args=(PyArg("x", literal=literal),)))
    shared = share_definitions(_workflow(call(1, "[1, 2]"), call(2, "{'a': 1}")))
    assert shared.task("p1").inputs[0].type == JSON
    assert shared.task("p1").arguments == (("x", ("[1, 2]",)),)
    assert shared.task("p2").arguments == (("x", ('{"a": 1}',)),)
