"""Loops over several sources (CWL's scatter over several inputs): literal sources are combined when the workflow
is compiled; where a source is only known at run time (another task's output list, a workflow parameter), this
pass adds a small task that combines the lists when the workflow runs, and the loop goes over its result.

The combined items are objects keyed by source name, so ``ItemRef(name)`` is the same in both cases. ``zip`` needs
lists of one length (CWL's dotproduct refuses others, and so does the task); ``cross`` and ``nested`` take every
combination, first source outermost.
"""

from __future__ import annotations

import json
from dataclasses import replace

from migrator.ir import JSON, Loop, OutputRef, Port, PortType, PyArg, PythonCall, Task, Workflow
from migrator.runtime import keeps_return

COMBINE = '''\
def combine_loop_sources(mode, names, *lists):
    import itertools
    import json

    lists = [json.loads(x) if isinstance(x, str) else x for x in lists]
    if mode == "zip":
        if len({len(x) for x in lists}) > 1:
            raise SystemExit(f"zip over lists of different lengths: {[len(x) for x in lists]}")
        rows = zip(*lists)
    else:
        rows = itertools.product(*lists)
    return [dict(zip(names, row)) for row in rows]
'''


def lower_loops(workflow: Workflow) -> Workflow:
    """A loop with a source known only at run time goes over the output of a task that combines its sources."""
    out = workflow.copy()
    for task in out.tasks():
        loop = task.loop
        if loop is None or not loop.sources or all(s.over is None for s in loop.sources):
            continue
        helper_id = f"{task.id}.loop-items"
        args = [PyArg(None, literal=repr(loop.mode.value)), PyArg(None, literal=repr([s.name for s in loop.sources]))]
        for source in loop.sources:
            if source.over is not None:
                args.append(PyArg(None, ref=source.over))
            else:
                args.append(PyArg(None, literal=repr([json.loads(i) for i in source.items or ()])))
        helper = Task(
            id=helper_id, origin=task.origin, construct="loop-items", group=task.group,
            action=PythonCall(function="combine_loop_sources", source=COMBINE, args=tuple(args),
                              writers=(keeps_return(),)),
            outputs=(Port("return_value", PortType(JSON.kind, True)),),
        )
        out.add_task(helper)
        for source in loop.sources:
            if isinstance(source.over, OutputRef):
                out.add_edge(source.over.task_id, helper_id)
        out.add_edge(helper_id, task.id)
        out.replace_task(replace(task, loop=Loop(over=OutputRef(helper_id, "return_value"), mode=loop.mode)))
    return out
