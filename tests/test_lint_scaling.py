"""Lint's work grows linearly with its input (FINDINGS F7: a 20,000-task chain took 130 s and 9.4 GB, a dense
10,000-task DAG did not finish in 590 s, both in the ancestor walk of the non-ancestor-reference rule).

Work is measured as the number of Python function calls lint makes, which is deterministic (the same on every
machine and under every hash seed) where wall time is not; timings belong in benchmarks. Ten times the tasks must
cost less than ten times the calls, or than the input grew when it grew more (the first tasks of the dense shape
have fewer predecessors): linear work costs just under that (the fixed part does not grow), the quadratic walk cost
about 100x.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from backends.argo.lint import lint_text


def dag(n: int, depends: Callable[[int], list[int]]) -> str:
    """A Workflow with one DAG of ``n`` tasks; each passes the result of the tasks it depends on to its template,
    so the non-ancestor-reference rule has a reference to check for every dependency."""
    lines = ["apiVersion: argoproj.io/v1alpha1", "kind: Workflow", "metadata: {name: big}", "spec:",
             "  entrypoint: main", "  templates:", "  - name: main", "    dag:", "      tasks:"]
    for i in range(n):
        deps = depends(i)
        lines.append(f"      - name: t{i}")
        lines.append("        template: leaf")
        if deps:
            lines.append(f"        depends: {' && '.join(f't{d}' for d in deps)}")
            values = " ".join("{{tasks.t%d.outputs.result}}" % d for d in deps)
            lines.append(f"        arguments: {{parameters: [{{name: v, value: '{values}'}}]}}")
    lines += ["  - name: leaf", "    inputs: {parameters: [{name: v, default: ''}]}",
              "    container: {image: alpine, command: ['true']}"]
    return "\n".join(lines) + "\n"


def chain(n: int) -> str:
    return dag(n, lambda i: [i - 1] if i else [])


def dense(n: int) -> str:
    return dag(n, lambda i: list(range(max(0, i - 50), i)))  # F7's dense case: 50 predecessors each


def calls(text: str) -> int:
    count = 0

    def tracer(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal count
        count += 1  # called once per Python function call; returning None skips line events

    sys.settrace(tracer)
    try:
        lint_text(text, "big.yaml")
    finally:
        sys.settrace(None)
    return count


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    lint_text(chain(3), "warm.yaml")  # imports and caches (Hera's models) are not the work being measured


@pytest.mark.parametrize(("shape", "small"), [(chain, 2_000), (dense, 300)], ids=["chain", "dense"])
def test_ten_times_the_tasks_cost_less_than_ten_times_the_work(shape: Callable[[int], str], small: int) -> None:
    text, bigger = shape(small), shape(10 * small)
    few, many = calls(text), calls(bigger)
    growth = max(10, len(bigger) / len(text))
    assert many < growth * few, (f"{small} tasks: {few:,} calls; {10 * small} tasks: {many:,} calls "
                                 f"({many / few:.2f}x for {len(bigger) / len(text):.2f}x the bytes)")


def test_the_big_inputs_are_still_checked() -> None:
    # Over Argo's 200-task limit the DAG is an error (AM401); the other rules still run on it.
    text = chain(2_000).replace("{{tasks.t1.outputs.result}}", "{{tasks.t7.outputs.result}}")  # t1 runs first
    text = text.replace("depends: t1998\n", "depends: t1998 && nope\n")
    codes = sorted(d.code for d in lint_text(text, "big.yaml"))
    assert codes == ["AM401", "AM413"]  # t7 is not a direct dependency of t1: not checked in so large a DAG
    small = chain(20).replace("{{tasks.t1.outputs.result}}", "{{tasks.t7.outputs.result}}")
    assert [d.code for d in lint_text(small, "small.yaml")] == ["AM416"]
