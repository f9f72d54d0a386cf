"""The ``run.json`` contract of ``argo-migrate run --local``.

::

    {"phase": "Succeeded" | "Failed" | "Error",
     "message": "...",
     "workflow": "<name>", "kind": "Workflow", "file": "<manifest>", "runFolder": "<folder>",
     "startedAt": "...Z", "finishedAt": "...Z", "duration": 1.23,
     "entrypoint": <node>,
     "nodes": {"<key>": <node>, ...}}

    <node> = {"phase": "Succeeded" | "Failed" | "Error" | "Skipped" | "Omitted",
              "template": "<template name>", "type": "Pod" | "DAG" | "Steps" | "TaskGroup" | "Skipped" | ...,
              "outputs": {"parameters": {"<name>": "<value>"}, "result": "<stdout>" | null
                          [, "artifacts": {"<name>": "<path in the run's artifact repository>"}]},
              "exitCode": 0 | null, "message": "...", "attempts": 1, "log": "<folder under runFolder>" | null}

Keys are described in :mod:`~backends.argo.local.engine`. Outputs of a Skipped or Omitted node are empty: Argo
does not produce them. Keys, types and the meaning of every field are stable; new fields may be added.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from backends.argo.local.engine import Node, RunResult, _iso


def node_json(node: Node) -> dict[str, Any]:
    outputs: dict[str, Any] = {"parameters": dict(node.parameters), "result": node.result}
    if node.artifacts:
        outputs["artifacts"] = dict(node.artifacts)
    return {
        "phase": node.phase,
        "template": node.template,
        "type": node.type,
        "outputs": outputs,
        "exitCode": node.exit_code,
        "message": node.message,
        "attempts": node.attempts,
        "log": node.log,
    }


def report_json(run: RunResult, kind: str, file: str, workflow: str) -> dict[str, Any]:
    return {
        "phase": run.phase,
        "message": run.message,
        "workflow": workflow,
        "kind": kind,
        "file": file,
        "runFolder": str(run.folder),
        "startedAt": _iso(run.started),
        "finishedAt": _iso(run.finished),
        "duration": round(run.finished - run.started, 3),
        "entrypoint": node_json(run.root),
        "nodes": {key: node_json(node) for key, node in run.nodes.items()},
    }


def write(report: dict[str, Any], path: Path) -> None:
    """Atomically: a temporary file beside the target, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(report, out, indent=2, ensure_ascii=False)
            out.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
