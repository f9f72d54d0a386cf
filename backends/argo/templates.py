"""One row per IR action type: how it becomes an Argo template (built with Hera).

Templates never reference other tasks directly (Argo allows ``{{tasks.…}}`` only in DAG task fields), so every
:class:`~migrator.ir.OutputRef` a template needs becomes one of its input parameters; the DAG task passes the
producer's output as the argument. :class:`TemplateParts` carries both halves.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from hera.workflows import Container, Env, Parameter, Script
from hera.workflows import models as m

from backends.argo.names import parameter_name
from backends.wrappers import WrapperOptions, wrapper_spec
from migrator.ir import (
    Action,
    ContainerRun,
    InputRef,
    Noop,
    ParamRef,
    PythonCall,
    Ref,
    Task,
    Text,
    Wrapped,
)

RETURN_DIR = "/tmp/argo-migrate"


@dataclass(frozen=True)
class Images:
    python: str = "python:3.12-slim"
    noop: str = "busybox:1.36"


@dataclass
class TemplateParts:
    """A template under construction and the arguments its DAG task must pass."""

    inputs: dict[str, str] = field(default_factory=dict)  # input parameter name → value in the DAG task

    def bind(self, ref: Ref, task_name_of: Callable[[str], str]) -> str:
        """The template-side expression for ``ref``."""
        if isinstance(ref, ParamRef):
            return "{{workflow.parameters.%s}}" % parameter_name(ref.name)
        if isinstance(ref, InputRef):
            return "{{inputs.parameters.%s}}" % parameter_name(ref.name)
        producer = task_name_of(ref.task_id)
        name = parameter_name(f"{producer}-{ref.name}")
        self.inputs[name] = "{{tasks.%s.outputs.parameters.%s}}" % (producer, parameter_name(ref.name))
        return "{{inputs.parameters.%s}}" % name


def render(value: Text, parts: TemplateParts, task_name_of: Callable[[str], str]) -> str:
    return "".join(p if isinstance(p, str) else parts.bind(p, task_name_of) for p in value)


def _container(task: Task, name: str, parts: TemplateParts, ctx: BuildContext) -> Container | Script:
    action = task.action
    assert isinstance(action, ContainerRun)
    return Container(
        name=name,
        image=action.image,
        command=[render(v, parts, ctx.task_name_of) for v in action.command] or None,
        args=[render(v, parts, ctx.task_name_of) for v in action.args] or None,
        env=[Env(name=k, value=render(v, parts, ctx.task_name_of)) for k, v in action.env] or None,
    )


def _python_stub(action: PythonCall, env_names: dict[int, str]) -> str:
    call_args: list[str] = []
    for i, arg in enumerate(action.args):
        value = (arg.literal or "None") if arg.ref is None else f"_am_arg({env_names[i]!r})"
        call_args.append(value if arg.name is None else f"{arg.name}={value}")
    return (
        "\n\n# --- argo-migrate: call the task and keep its return value as the output parameter ---\n"
        "import json as _am_json\n"
        "import os as _am_os\n\n\n"
        "def _am_arg(name):\n"
        "    raw = _am_os.environ.get(name, '')\n"
        "    return None if raw == '' else _am_json.loads(raw)\n\n\n"
        f"_am_result = {action.function}({', '.join(call_args)})\n"
        f"_am_os.makedirs({RETURN_DIR!r}, exist_ok=True)\n"
        f"with open({RETURN_DIR + '/return_value'!r}, 'w') as _am_out:\n"
        "    _am_json.dump(_am_result, _am_out, default=str)\n"
    )


def _script(task: Task, name: str, parts: TemplateParts, ctx: BuildContext) -> Container | Script:
    action = task.action
    assert isinstance(action, PythonCall)
    env_names: dict[int, str] = {}
    env: list[Env] = []
    for i, arg in enumerate(action.args):
        if arg.ref is not None:
            env_names[i] = f"AM_ARG_{i}"
            env.append(Env(name=env_names[i], value=parts.bind(arg.ref, ctx.task_name_of)))
    preamble = action.preamble.rstrip() + "\n\n\n" if action.preamble.strip() else ""
    source = preamble + action.source.rstrip() + "\n" + _python_stub(action, env_names)
    outputs = [
        Parameter(name=parameter_name(out), value_from=m.ValueFrom(path=f"{RETURN_DIR}/{out}", default=""))
        for out in task.outputs
    ]
    return Script(
        name=name,
        image=action.image or ctx.images.python,
        command=["python"],
        source=source,
        env=env or None,
        outputs=outputs or None,
        add_cwd_to_sys_path=False,
    )


def _noop(task: Task, name: str, parts: TemplateParts, ctx: BuildContext) -> Container | Script:
    return Container(name=name, image=ctx.images.noop, command=["true"])


def _wrapped(task: Task, name: str, parts: TemplateParts, ctx: BuildContext) -> Container | Script:
    action = task.action
    assert isinstance(action, Wrapped)
    spec = wrapper_spec(action, ctx.wrapper_options)
    return Container(
        name=name,
        image=spec.image,
        command=list(spec.command),
        args=list(spec.args) or None,
        env=[Env(name=k, value=v) for k, v in spec.env] or None,
        volume_mounts=[m.VolumeMount(name=c.volume, mount_path=c.mount_path, read_only=True)
                       for c in spec.config_maps] or None,
        volumes=[m.Volume(name=c.volume, config_map=m.ConfigMapVolumeSource(name=c.config_map))
                 for c in spec.config_maps] or None,
    )


@dataclass
class BuildContext:
    images: Images
    wrapper_options: WrapperOptions
    task_name_of: Callable[[str], str]


Builder = Callable[[Task, str, TemplateParts, BuildContext], Container | Script]

TEMPLATE_TABLE: dict[type, Builder] = {
    ContainerRun: _container,
    PythonCall: _script,
    Noop: _noop,
    Wrapped: _wrapped,
}


def build_template(task: Task, name: str, ctx: BuildContext) -> tuple[Container | Script, TemplateParts]:
    parts = TemplateParts()
    action: Action = task.action
    template = TEMPLATE_TABLE[type(action)](task, name, parts, ctx)
    if parts.inputs:
        template.inputs = [Parameter(name=k) for k in parts.inputs]
    if task.retry is not None:
        backoff = None
        if task.retry.delay_seconds is not None:
            backoff = m.Backoff(
                duration=f"{task.retry.delay_seconds}s",
                factor=_int_or_str(task.retry.backoff_factor),
                max_duration=f"{task.retry.max_delay_seconds}s" if task.retry.max_delay_seconds else None,
            )
        # Airflow retries on any exception, so Always (not the default OnFailure) is the faithful policy.
        template.retry_strategy = m.RetryStrategy(
            limit=m.IntOrString(task.retry.limit), retry_policy="Always", backoff=backoff
        )
    if task.timeout_seconds is not None:
        template.active_deadline_seconds = task.timeout_seconds
    return template, parts


def _int_or_str(value: float | None) -> m.IntOrString | None:
    if value is None:
        return None
    if float(value).is_integer():
        return m.IntOrString(int(value))
    return m.IntOrString(json.dumps(value))
