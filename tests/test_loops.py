"""Loops over several sources (CWL scatter): zip pairs the i-th items, cross takes every combination; a source
known only at run time is combined by a task of its own when the workflow runs. Checked by running the emitted
workflow with the local runner: the consumer runs once per combination, with the right item."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backends.argo.emit import EmitOptions, Kind, combine, emit
from backends.argo.local.engine import Options, Runner
from backends.argo.local.model import load
from backends.argo.yaml_out import dump
from migrator.invariants import check
from migrator.ir import (
    JSON,
    ContainerRun,
    ItemRef,
    Loop,
    LoopMode,
    LoopSource,
    OutputRef,
    Port,
    PythonCall,
    SourceLoc,
    Task,
    Workflow,
    text,
)
from migrator.loops import lower_loops
from migrator.runtime import keeps_return

HERE = SourceLoc("loops.py", 1)


def _workflow(mode: LoopMode, dynamic: bool) -> Workflow:
    workflow = Workflow(id=f"loops-{mode.value}", origin=HERE)
    numbers = LoopSource("n", items=("1", "2", "3"))
    if dynamic:
        workflow.add_task(Task("numbers", HERE, "py", PythonCall("numbers", "def numbers():\n    return [1, 2, 3]\n",
                                                                 writers=(keeps_return(),)),
                               outputs=(Port("return_value", JSON),)))
        numbers = LoopSource("n", over=OutputRef("numbers", "return_value"))
    letters = LoopSource("s", items=('"x"', '"y"', '"z"'))
    command = ("echo ", ItemRef("n"), "-", ItemRef("s"))
    workflow.add_task(Task("each", SourceLoc("loops.py", 2), "sh", ContainerRun(
        "busybox:1.36", (text("sh"), text("-c")), (command,)), loop=Loop(sources=(numbers, letters), mode=mode)))
    if dynamic:
        workflow.add_edge("numbers", "each")
    return workflow


@pytest.mark.parametrize("mode, expected", [(LoopMode.ZIP, ["1-x", "2-y", "3-z"]),
                                            (LoopMode.CROSS, [f"{n}-{s}" for n in "123" for s in "xyz"])])
@pytest.mark.parametrize("dynamic", [False, True], ids=["literal", "run-time"])
def test_loop_over_several_sources_runs_once_per_combination(mode: LoopMode, expected: list[str], dynamic: bool,
                                                             tmp_path: Path) -> None:
    workflow = lower_loops(_workflow(mode, dynamic))
    assert check(workflow) == []
    manifest = emit(workflow, workflow.id, EmitOptions(kind=Kind.WORKFLOW))
    path = tmp_path / "loops.yaml"
    path.write_text(dump(manifest.document))
    result = Runner(load(path), Options(workdir=tmp_path / "run", jobs=2, timeout=120, fast_forward=True)).run()
    assert result.phase == "Succeeded", result.message
    outputs = sorted(n.result or "" for k, n in result.nodes.items() if k.startswith("each("))
    assert outputs == sorted(expected)


def test_literal_sources_are_combined_when_compiling() -> None:
    loop = Loop(sources=(LoopSource("a", items=("1", "2")), LoopSource("b", items=('"p"', '"q"'))),
                mode=LoopMode.CROSS)
    assert combine(loop) == [{"a": 1, "b": "p"}, {"a": 1, "b": "q"}, {"a": 2, "b": "p"}, {"a": 2, "b": "q"}]
    assert lower_loops(_workflow(LoopMode.ZIP, False)).graph.number_of_nodes() == 1  # no helper task needed
    assert json.dumps(combine(Loop(sources=loop.sources, mode=LoopMode.ZIP))) == \
        '[{"a": 1, "b": "p"}, {"a": 2, "b": "q"}]'
