"""The IR's invariants name what a frontend or pass broke (the pipeline reports them as AM902, never a
traceback): port types, arguments to inputs that do not exist, outputs nobody declared, group cycles."""

from __future__ import annotations

from dataclasses import replace

from migrator.invariants import check
from migrator.ir import (
    FILE,
    STRING,
    ContainerRun,
    Group,
    OutputRef,
    Port,
    SourceLoc,
    Task,
    Workflow,
    text,
)

HERE = SourceLoc("x", 1)


def _workflow() -> Workflow:
    workflow = Workflow(id="w", origin=HERE)
    run = ContainerRun("busybox:1.36", (text("true"),))
    workflow.add_task(Task("a", HERE, "sh", run, outputs=(Port("out", FILE, path="a.txt"),)))
    workflow.add_task(Task("b", HERE, "sh", run, inputs=(Port("src", FILE),), arguments=(("src", (OutputRef("a", "out"),)),)))
    workflow.add_edge("a", "b")
    return workflow


def test_a_consistent_workflow_has_no_violation() -> None:
    assert check(_workflow()) == []


def test_a_port_type_mismatch_is_named() -> None:
    workflow = _workflow()
    workflow.replace_task(replace(workflow.task("b"), inputs=(Port("src", STRING),)))
    assert check(workflow) == ["port type mismatch: a.out (file) feeds b.src (string)"]


def test_an_argument_to_no_input_and_an_undeclared_output_are_named() -> None:
    workflow = _workflow()
    workflow.replace_task(replace(workflow.task("b"), arguments=(("src", (OutputRef("a", "nope"),)),
                                                                  ("extra", ("x",)))))
    problems = check(workflow)
    assert "task 'b' reads undeclared output a.nope" in problems
    assert "task 'b' passes argument 'extra' to no input" in problems


def test_a_group_cycle_and_an_unknown_group_are_named() -> None:
    workflow = _workflow()
    workflow.groups = {"g": Group("g", HERE, parent="h"), "h": Group("h", HERE, parent="g")}
    workflow.replace_task(replace(workflow.task("a"), group="nowhere"))
    problems = check(workflow)
    assert "task 'a' is in unknown group 'nowhere'" in problems
    assert any(p.startswith("group cycle through") for p in problems)


def test_a_reference_to_a_task_that_is_not_upstream_is_named() -> None:
    workflow = _workflow()
    workflow.graph.remove_edge("a", "b")
    assert check(workflow) == ["task 'b' reads output of 'a', which is not upstream"]
