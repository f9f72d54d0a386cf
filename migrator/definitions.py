"""Step definitions shared by tasks: tasks whose actions differ only in values become instances of one definition.

A definition is an action whose varying values are ``InputRef``s (typed by the task's ``inputs``); each task passes
its own values as ``arguments``. A backend then writes one template per distinct action. Frontends may build
definitions themselves (a Snakemake rule and its jobs); this pass finds them where a frontend wrote each task out
in full (Airflow: a TaskFlow function called twice, a BashOperator in a loop).

The action types whose values may vary are a table, :data:`LIFTABLE`: for each, the fields that hold values and
how they hold them. Everything else in an action (the image, the program, the Python source) is what runs, and
must be equal for two tasks to share a definition.

Lifted are literal strings without template syntax, references to other tasks' outputs (so that a definition
does not depend on which task feeds it), and Python literal arguments. Strings holding ``{{`` are left in place:
a backend could not pass them through its own templating unchanged.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from migrator.ir import (
    JSON,
    STRING,
    Action,
    ContainerRun,
    HttpRequest,
    InputRef,
    OutputRef,
    Port,
    PortType,
    PyArg,
    PythonCall,
    RunWorkflow,
    Task,
    Text,
    Workflow,
)

# How an action field holds values: a Text, a tuple of Texts, (name, Text) pairs, or Python arguments.
TEXT, TEXTS, PAIRS, PYARGS = "text", "texts", "pairs", "pyargs"

LIFTABLE: dict[type, tuple[tuple[str, str], ...]] = {
    ContainerRun: (("command", TEXTS), ("args", TEXTS), ("env", PAIRS)),
    PythonCall: (("args", PYARGS), ("env", PAIRS)),
    HttpRequest: (("url", TEXT), ("headers", PAIRS), ("body", TEXT)),
    RunWorkflow: (("parameters", PAIRS),),
}


@dataclass(frozen=True)
class _Hole:
    """A value in an action that may become an input: its place (for the input's name) and its value."""

    place: str
    value: str | OutputRef  # a literal string, a Python argument's text, or another task's output
    type: PortType = STRING  # a Python argument that is not a str is passed as JSON


def _liftable(value: object) -> bool:
    return isinstance(value, OutputRef) or (isinstance(value, str) and "{{" not in value)


def _text_holes(value: Text, place: str) -> Iterator[tuple[int, _Hole]]:
    holes = [j for j, part in enumerate(value) if _liftable(part)]
    for n, j in enumerate(holes):
        suffix = "" if len(holes) == 1 else f"-{n}"
        yield j, _Hole(place + suffix, value[j])  # type: ignore[arg-type]


def _python_literal(source: str) -> tuple[str, PortType] | None:
    """A Python literal argument as the text passed to its input and that input's type (a str is passed as it
    is, anything else as JSON), or None when it is not plain data."""
    try:
        value = ast.literal_eval(source)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(value, str):
        return (value, STRING) if "{{" not in value else None
    try:
        return json.dumps(value, sort_keys=True), JSON
    except (TypeError, ValueError):
        return None


class _Skeleton:
    """An action with its holes cut out; two tasks with equal skeletons can share a definition."""

    def __init__(self, action: Action) -> None:
        self.action = action
        self.holes: list[_Hole] = []
        parts: list[object] = [type(action)]
        layout = dict(LIFTABLE.get(type(action), ()))
        for name, value in sorted(vars(action).items()):
            kind = layout.get(name)
            if kind is None:
                parts.append((name, value))
            else:
                parts.append((name, self._cut(value, kind, name)))
        self.key = tuple(parts)

    def _cut(self, value: Any, kind: str, name: str) -> object:
        if value is None:
            return None
        if kind == TEXT:
            return self._cut_text(value, name)
        if kind == TEXTS:
            return tuple(self._cut_text(v, f"{name}-{i}") for i, v in enumerate(value))
        if kind == PAIRS:
            return tuple((k, self._cut_text(v, f"{name}-{k}")) for k, v in value)
        out: list[object] = []
        for i, arg in enumerate(value):
            assert isinstance(arg, PyArg)
            place = arg.name if arg.name and arg.name != "**" else f"arg-{i}"
            data = _python_literal(arg.literal) if arg.literal is not None else None
            if data is not None:
                self.holes.append(_Hole(place, data[0], data[1]))
                out.append((arg.name, "<hole>"))
            elif isinstance(arg.ref, OutputRef):
                self.holes.append(_Hole(place, arg.ref))
                out.append((arg.name, "<hole>"))
            else:
                out.append(arg)
        return tuple(out)

    def _cut_text(self, value: Text, place: str) -> tuple[object, ...]:
        cut = dict(_text_holes(value, place))
        self.holes.extend(cut.values())
        return tuple("<hole>" if j in cut else part for j, part in enumerate(value))


def _fill(action: Action, names: list[str | None]) -> Action:
    """``action`` with hole i replaced by ``InputRef(names[i])`` where a name is given (in the skeleton's order)."""
    counter = iter(names)
    layout = dict(LIFTABLE[type(action)])
    changes: dict[str, Any] = {}
    for name in sorted(vars(action)):
        kind = layout.get(name)
        value = getattr(action, name)
        if kind is None or value is None:
            continue
        if kind == TEXT:
            changes[name] = _fill_text(value, counter)
        elif kind == TEXTS:
            changes[name] = tuple(_fill_text(v, counter) for v in value)
        elif kind == PAIRS:
            changes[name] = tuple((k, _fill_text(v, counter)) for k, v in value)
        else:
            args: list[PyArg] = []
            for arg in value:
                if (arg.literal is not None and _python_literal(arg.literal) is not None) or \
                        isinstance(arg.ref, OutputRef):
                    input_name = next(counter)
                    args.append(PyArg(arg.name, ref=InputRef(input_name)) if input_name else arg)
                else:
                    args.append(arg)
            changes[name] = tuple(args)
    return replace(action, **changes)  # type: ignore[arg-type]


def _fill_text(value: Text, counter: Iterator[str | None]) -> Text:
    out: list[Any] = []
    for part in value:
        if _liftable(part):
            name = next(counter)
            out.append(InputRef(name) if name else part)
        else:
            out.append(part)
    return tuple(out)


def share_definitions(workflow: Workflow,
                      port_type: Callable[[Workflow, OutputRef, Task], PortType] | None = None) -> Workflow:
    """Tasks with equal skeletons become instances of one definition: the values that differ between them, and
    every output they read, are lifted into typed inputs."""
    out = workflow.copy()
    by_key: dict[tuple[object, ...], list[tuple[Task, _Skeleton]]] = {}
    for task in out.tasks():
        if type(task.action) not in LIFTABLE or task.inputs or task.arguments or task.jobs:
            continue  # a frontend's own definition (one task running several source jobs) is kept as it is
        skeleton = _Skeleton(task.action)
        if skeleton.holes:
            by_key.setdefault(skeleton.key, []).append((task, skeleton))
    typed = port_type or _output_type
    for members in by_key.values():
        if len(members) < 2:
            continue
        first = members[0][1].holes
        varying = [any(m[1].holes[i].value != h.value for m in members) or isinstance(h.value, OutputRef)
                   for i, h in enumerate(first)]
        names = _input_names([h.place for h in first], varying)
        for task, skeleton in members:
            inputs: list[Port] = []
            arguments: list[tuple[str, Text]] = []
            for hole, name in zip(skeleton.holes, names, strict=True):
                if name is None:
                    continue
                inputs.append(Port(name, typed(out, hole.value, task) if isinstance(hole.value, OutputRef)
                                   else hole.type))
                arguments.append((name, (hole.value,)))
            out.replace_task(replace(task, action=_fill(task.action, names), inputs=tuple(inputs),
                                     arguments=tuple(arguments)))
    return out


def _output_type(workflow: Workflow, ref: OutputRef, consumer: Task) -> PortType:
    port = workflow.task(ref.task_id).output(ref.name)
    base = port.type if port is not None else JSON
    # A fanned-out producer's output arrives as the list of every instance's value.
    return PortType(base.kind, True) if workflow.fanned_for(ref.task_id, consumer) else base


def _input_names(places: list[str], varying: list[bool]) -> list[str | None]:
    taken: set[str] = set()
    names: list[str | None] = []
    for place, lift in zip(places, varying, strict=True):
        if not lift:
            names.append(None)
            continue
        name, n = place, 2
        while name in taken:
            name, n = f"{place}-{n}", n + 1
        taken.add(name)
        names.append(name)
    return names
