"""Raw inputs and final outputs of a workflow that moves files: the Init task that stages the inputs into the
workspace and the Finalize task that keeps the final outputs. A frontend calls these; the backend decides how
files move (a shared volume or the artifact repository, ``--storage``).
"""

from __future__ import annotations

from migrator.ir import OutputRef, Port, SourceLoc, Stage, Task, Text, Workflow

INIT = "init"
FINALIZE = "finalize"


def stage_in(workflow: Workflow, files: tuple[Port, ...], origin: SourceLoc) -> dict[str, OutputRef]:
    """Add the Init task for ``files`` (File/Directory ports: ``path`` in the workspace, ``default`` the key in the
    artifact repository it is read from); returns each file's reference for the tasks that read it."""
    workflow.add_task(Task(INIT, origin, "init", Stage("in"), outputs=files))
    return {port.name: OutputRef(INIT, port.name) for port in files}


def stage_out(workflow: Workflow, results: dict[str, OutputRef], origin: SourceLoc) -> None:
    """Add the Finalize task: it runs after the producers of ``results`` and keeps each one, under its name."""
    inputs: list[Port] = []
    arguments: list[tuple[str, Text]] = []
    for name, ref in sorted(results.items()):
        port = workflow.task(ref.task_id).output(ref.name)
        assert port is not None, f"{ref.task_id} has no output {ref.name}"
        inputs.append(Port(name, port.type, port.path))
        arguments.append((name, (ref,)))
    workflow.add_task(Task(FINALIZE, origin, "finalize", Stage("out"), inputs=tuple(inputs),
                           arguments=tuple(arguments)))
    for ref in results.values():
        workflow.add_edge(ref.task_id, FINALIZE)
