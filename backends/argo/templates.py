"""One row per IR action type: how it becomes an Argo template (built with Hera).

Templates never reference other tasks or loop items directly (Argo allows ``{{tasks.…}}`` and ``{{item}}`` only in
DAG task fields), so every :class:`~migrator.ir.OutputRef` or :class:`~migrator.ir.ItemRef` a template needs becomes
one of its input parameters, and the DAG task passes the value as the argument. Secrets become environment
variables read from a Secret (``$(VAR)`` in command and arguments, which Kubernetes expands), so that no secret
value is ever written into a manifest. :class:`TemplateParts` collects both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from hera.workflows import HTTP, Container, Env, Parameter, Script, SecretEnv, Suspend
from hera.workflows import Resource as HeraResource
from hera.workflows import models as m

from backends.argo.names import dns_label, parameter_name
from backends.argo.storage import StorageOptions, decorate, local_path, path_of, stage_command
from backends.wrappers import WrapperOptions, wrapper_spec
from migrator.ir import (
    BOOLEAN,
    STRING,
    Action,
    AwaitWorkflow,
    ContainerRun,
    HttpRequest,
    InputRef,
    ItemRef,
    Noop,
    OutputPath,
    OutputRef,
    ParamRef,
    PythonCall,
    Ref,
    Resource,
    Resources,
    RunMeta,
    RunWorkflow,
    SecretRef,
    Stage,
    Task,
    Text,
    Wait,
    Wrapped,
)
from migrator.pods import GPU_RESOURCE, QUEUE_LABEL, PodOptions, with_defaults
from migrator.runtime import OUTPUT_DIR

Template = Container | Script | Suspend | HTTP | HeraResource


# strftime directives that Argo can format from the workflow's creation time (docs/variables.md).
_STRFTIME = set("aAbBcCdDeFgGhHIjklmMnprRStTuUVwWxXyYzZ")


@dataclass(frozen=True)
class Images:
    python: str = "python:3.12-slim"
    uv: str = "ghcr.io/astral-sh/uv:python3.12-bookworm-slim"
    noop: str = "busybox:1.36"
    kubectl: str = "bitnami/kubectl:1.31"


_GO_LAYOUT = {"Y": "2006", "m": "01", "d": "02", "H": "15", "M": "04", "S": "05", "y": "06", "b": "Jan",
              "B": "January", "a": "Mon", "A": "Monday", "j": "002", "z": "-0700", "Z": "MST", "p": "PM", "I": "03",
              "%": "%"}


def go_layout(fmt: str) -> str | None:
    """A strftime format as a Go time layout (what sprig's ``date`` takes); None for directives Go lacks."""
    out: list[str] = []
    i = 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            layout = _GO_LAYOUT.get(fmt[i + 1])
            if layout is None:
                return None
            out.append(layout)
            i += 2
        else:
            if fmt[i].isdigit():
                return None  # a literal digit would be read as part of the layout
            out.append(fmt[i])
            i += 1
    return "".join(out)


SEMAPHORES_CONFIG_MAP = "argo-migrate-semaphores"


def run_meta(ref: RunMeta) -> str:
    """Argo's equivalent of the run's logical date (the workflow's creation time) or id (the workflow's name)."""
    if ref.field == "run_id":
        return "{{workflow.name}}"
    if ref.field == "status":
        return "{{workflow.status}}"
    if ref.days:
        layout = go_layout(ref.fmt or "%Y-%m-%d")
        assert layout is not None, ref.fmt
        # In expressions workflow.creationTimestamp is the map of its formats (.Y, .m…); .RFC3339 is the text.
        created = "sprig.toDate('2006-01-02T15:04:05Z07:00', workflow.creationTimestamp.RFC3339)"
        return "{{=sprig.date('%s', sprig.dateModify('%dh', %s))}}" % (layout, ref.days * 24, created)
    if ref.fmt is None:
        return "{{workflow.creationTimestamp}}"
    out: list[str] = []
    i = 0
    while i < len(ref.fmt):
        ch = ref.fmt[i]
        if ch == "%" and i + 1 < len(ref.fmt):
            directive = ref.fmt[i + 1]
            out.append("%" if directive == "%" else "{{workflow.creationTimestamp.%s}}" % directive)
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def strftime_supported(fmt: str) -> bool:
    return all(d in _STRFTIME or d == "%" for d in re.findall(r"%(.)", fmt))


@dataclass
class TemplateParts:
    """A template under construction and what its DAG task must pass to it."""

    # Input parameter name → the value its DAG task passes (references the emitter writes in the task's scope).
    inputs: dict[str, Text] = field(default_factory=dict)
    # File inputs that arrive as artifacts (``--storage artifacts``): input name → where the file is in the pod.
    paths: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, SecretRef] = field(default_factory=dict)  # environment variable → secret key

    def bind(self, ref: Ref, task_name_of: Callable[[str], str]) -> str:
        """The template-side expression for ``ref``."""
        if isinstance(ref, ParamRef):
            return "{{workflow.parameters.%s}}" % parameter_name(ref.name)
        if isinstance(ref, OutputPath):
            return self.paths[f"output:{ref.name}"]
        if isinstance(ref, InputRef):
            if ref.name in self.paths:
                return self.paths[ref.name]
            return "{{inputs.parameters.%s}}" % parameter_name(ref.name)
        if isinstance(ref, RunMeta):
            return run_meta(ref)
        if isinstance(ref, SecretRef):
            var = "AM_SECRET_" + re.sub(r"[^A-Za-z0-9]+", "_", f"{ref.name}_{ref.key}").upper()
            self.secrets[var] = ref
            return f"$({var})"
        if isinstance(ref, ItemRef):
            name = parameter_name("item" if ref.key is None else f"item-{ref.key}")
            self.inputs[name] = (ref,)
            return "{{inputs.parameters.%s}}" % name
        assert isinstance(ref, OutputRef)
        name = parameter_name(f"{task_name_of(ref.task_id)}-{ref.name}")
        self.inputs[name] = (ref,)
        return "{{inputs.parameters.%s}}" % name

    def secret_env(self) -> list[Env | SecretEnv]:
        return [SecretEnv(name=var, secret_name=s.name, secret_key=s.key) for var, s in sorted(self.secrets.items())]


def render(value: Text, parts: TemplateParts, task_name_of: Callable[[str], str]) -> str:
    return "".join(p if isinstance(p, str) else parts.bind(p, task_name_of) for p in value)


def _env(pairs: tuple[tuple[str, Text], ...], parts: TemplateParts, ctx: BuildContext) -> list[Env | SecretEnv]:
    env: list[Env | SecretEnv] = []
    for key, value in pairs:
        if len(value) == 1 and isinstance(value[0], SecretRef):
            env.append(SecretEnv(name=key, secret_name=value[0].name, secret_key=value[0].key))
        else:
            env.append(Env(name=key, value=render(value, parts, ctx.task_name_of)))
    return env


def _container(task: Task, name: str, parts: TemplateParts, ctx: BuildContext) -> Template:
    action = task.action
    assert isinstance(action, ContainerRun)
    command = [render(v, parts, ctx.task_name_of) for v in action.command]
    args = [render(v, parts, ctx.task_name_of) for v in action.args]
    env = _env(action.env, parts, ctx)
    # Secrets first: Kubernetes expands $(VAR) only for variables defined earlier in the list.
    env = parts.secret_env() + env
    k8s = {key: json.loads(value) for key, value in action.kubernetes}
    return Container(
        name=name, image=action.image, command=command or None, args=args or None, env=env or None,
        node_selector=k8s.get("nodeSelector"),
        tolerations=[m.Toleration.model_validate(t) for t in k8s["tolerations"]] if "tolerations" in k8s else None,
        affinity=m.Affinity.model_validate(k8s["affinity"]) if "affinity" in k8s else None,
        volumes=[m.Volume.model_validate(v) for v in k8s["volumes"]] if "volumes" in k8s else None,
        volume_mounts=[m.VolumeMount.model_validate(v) for v in k8s["volumeMounts"]] if "volumeMounts" in k8s
        else None,
        image_pull_policy=k8s.get("imagePullPolicy"),
        service_account_name=k8s.get("serviceAccountName"),
        pod_security_context=m.PodSecurityContext.model_validate(k8s["securityContext"])
        if "securityContext" in k8s else None,
        security_context=m.SecurityContext.model_validate(k8s["containerSecurityContext"])
        if "containerSecurityContext" in k8s else None,
    )


def _resources(resources: Resources | None) -> m.ResourceRequirements | None:
    """Requests from the request fields, limits only where the source gives them; a GPU count is both (Kubernetes
    requires the limit of an extended resource, and a request equal to it)."""
    if resources is None:
        return None
    requests: dict[str, m.Quantity] = {}
    limits: dict[str, m.Quantity] = {}
    for name, request, limit in (("cpu", resources.cpu, resources.cpu_limit),
                                 ("memory", resources.memory, resources.memory_limit),
                                 ("ephemeral-storage", resources.ephemeral_storage, resources.ephemeral_storage_limit)):
        if request:
            requests[name] = m.Quantity(request)
        if limit:
            limits[name] = m.Quantity(limit)
    if resources.gpu:
        requests[GPU_RESOURCE] = limits[GPU_RESOURCE] = m.Quantity(str(resources.gpu))
    if not requests and not limits:
        return None
    return m.ResourceRequirements(requests=requests or None, limits=limits or None)


def _pod_settings(template: Container | Script, task: Task, pods: PodOptions) -> None:
    """What every pod-creating template gets, whatever its action: the task's resources (the defaults filling what
    it leaves out), the GPU toleration where a GPU is requested, and the Kueue queue label."""
    resources = with_defaults(task.resources, pods.default_resources)
    requirements = _resources(resources)
    if requirements is not None:
        template.resources = requirements
    if pods.gpu_toleration and resources is not None and resources.gpu:
        toleration = m.Toleration(key=pods.gpu_toleration, operator="Exists", effect="NoSchedule")
        tolerations = list(template.tolerations or [])
        if toleration not in tolerations:
            template.tolerations = [*tolerations, toleration]
    if pods.queue:
        template.labels = {**(template.labels or {}), QUEUE_LABEL: pods.queue}


_LOAD_ARG = (
    "def _am_arg(name):\n"
    "    raw = _am_os.environ.get(name, '')\n"
    "    if raw == '':\n"
    "        return None\n"
    "    try:\n"
    "        return _am_json.loads(raw)\n"
    "    except ValueError:\n"
    "        return raw  # Argo renders string loop items without quotes\n"
)
_LOAD_LIST = (
    "def _am_list(name):\n"
    "    # A fanned-out producer's outputs arrive aggregated by Argo: a JSON list of each instance's JSON text.\n"
    "    values = _am_arg(name) or []\n"
    "    out = []\n"
    "    for value in values:\n"
    "        try:\n"
    "            out.append(_am_json.loads(value) if isinstance(value, str) else value)\n"
    "        except ValueError:\n"
    "            out.append(value)\n"
    "    return out\n"
)


def _python_stub(action: PythonCall, env_names: dict[int, str], outputs: tuple[str, ...],
                 aggregated: set[int], raw: set[int]) -> str:
    """Call the function with its arguments, then run what the frontend asked for (``driver``, the ``writers``
    of declared outputs, ``epilogue``)."""
    call_args: list[str] = []
    for i, arg in enumerate(action.args):
        loader = "_am_list" if i in aggregated else "_am_arg"
        if arg.ref is None:
            value = arg.literal or "None"
        elif i in raw:
            value = f"_am_os.environ[{env_names[i]!r}]"
        else:
            value = f"{loader}({env_names[i]!r})"
        if arg.name is None:
            call_args.append(value)
        elif arg.name == "**":
            call_args.append(f"**{value}")
        else:
            call_args.append(f"{arg.name}={value}")
    call = f"{action.function}({', '.join(call_args)})"
    after = [code for name, code in action.writers if name in outputs]
    if action.epilogue:
        after.append(action.epilogue)
    body = [(action.driver or "_am_result = {call}").replace("{call}", call), *after]
    loads = any(arg.ref is not None and i not in raw for i, arg in enumerate(action.args))
    lines = [
        "",
        "",
        "# --- argo-migrate: call the task function ---",
        *(["import json as _am_json"] if loads or aggregated or any("_am_json" in b for b in body) else []),
        "import os as _am_os",
        "",
    ]
    # Only the loaders the call uses, so that a template stays as short as the code it runs.
    if loads:
        lines += ["", _LOAD_ARG]
    if aggregated:
        lines += ["", _LOAD_LIST]
    # A plain call whose value nobody keeps is just the call.
    lines += body if action.driver or after else [call]
    return "\n".join(lines) + "\n"


def _script(task: Task, name: str, parts: TemplateParts, ctx: BuildContext) -> Template:
    action = task.action
    assert isinstance(action, PythonCall)
    env_names: dict[int, str] = {}
    env: list[Env | SecretEnv] = []
    aggregated: set[int] = set()
    raw: set[int] = set()
    for i, arg in enumerate(action.args):
        if arg.ref is not None:
            env_names[i] = f"AM_ARG_{i}"
            env.append(Env(name=env_names[i], value=parts.bind(arg.ref, ctx.task_name_of)))
            port = task.input(arg.ref.name) if isinstance(arg.ref, InputRef) else None
            if (isinstance(arg.ref, OutputRef) and ctx.fanned_for(arg.ref.task_id, task)) or (port and port.type.array):
                aggregated.add(i)
            elif port is not None and port.type == STRING:
                raw.add(i)  # a string input is passed as it is, not as JSON
    env += _env(action.env, parts, ctx)
    env = parts.secret_env() + env
    header = ""
    command = ["python"]
    image = action.image or ctx.images.python
    if action.requirements:
        # PEP 723 inline metadata: `uv run --script` installs the requirements into a throw-away environment.
        deps = "".join(f"#   {json.dumps(r)},\n" for r in action.requirements)
        header = f"# /// script\n# dependencies = [\n{deps}# ]\n# ///\n"
        command = ["uv", "run", "--no-project", "--script"]
        image = action.image or ctx.images.uv
    preamble = action.preamble.rstrip() + "\n\n\n" if action.preamble.strip() else ""
    source = header + preamble + action.source.rstrip() + "\n" + _python_stub(action, env_names, task.output_names, aggregated, raw)
    return Script(name=name, image=image, command=command, source=source, env=env or None,
                  add_cwd_to_sys_path=False)


def _declare_outputs(template: Template, task: Task) -> None:
    """Outputs are files under OUTPUT_DIR; ``valueFrom.default`` keeps a skipped or silent producer from breaking
    its consumers (Argo fails a reference to a missing output otherwise; ARGO-SEMANTICS §2.5)."""
    if not task.outputs or not isinstance(template, Container | Script):
        return
    # A boolean output (a flag such as a branch decision) reads as "false" when its producer wrote nothing.
    template.outputs = [
        Parameter(name=parameter_name(out.name), value_from=m.ValueFrom(
            path=f"{OUTPUT_DIR}/{parameter_name(out.name)}", default="false" if out.type == BOOLEAN else ""))
        for out in task.outputs if not out.type.is_path  # files are the storage's (backends/argo/storage.py)
    ] or None


def _stage(task: Task, name: str, parts: TemplateParts, ctx: BuildContext) -> Template:
    return Container(name=name, image=ctx.images.noop, command=stage_command(task, ctx.storage))


def _noop(task: Task, name: str, parts: TemplateParts, ctx: BuildContext) -> Template:
    return Container(name=name, image=ctx.images.noop, command=["true"])


def _wrapped(task: Task, name: str, parts: TemplateParts, ctx: BuildContext) -> Template:
    action = task.action
    assert isinstance(action, Wrapped)
    spec = wrapper_spec(action, ctx.wrapper_options)
    return Container(
        name=name,
        image=spec.image,
        command=list(spec.command),
        args=list(spec.args) or None,
        env=[*(Env(name=k, value=v) for k, v in spec.env),
             *(SecretEnv(name=var, secret_name=secret, secret_key=key, optional=optional or None)
               for var, secret, key, optional in spec.secret_env)] or None,
        volume_mounts=[*(m.VolumeMount(name=c.volume, mount_path=c.mount_path, read_only=True)
                         for c in spec.config_maps),
                       *(m.VolumeMount(name=s.volume, mount_path=s.mount_path, read_only=True)
                         for s in spec.secrets)] or None,
        volumes=[*(m.Volume(name=c.volume, config_map=m.ConfigMapVolumeSource(name=c.config_map))
                   for c in spec.config_maps),
                 *(m.Volume(name=s.volume, secret=m.SecretVolumeSource(secret_name=s.secret))
                   for s in spec.secrets)] or None,
    )


def _wait(task: Task, name: str, parts: TemplateParts, ctx: BuildContext) -> Template:
    action = task.action
    assert isinstance(action, Wait)
    inputs = [Parameter(name=parameter_name(n), default=d, enum=list(enum) or None, description=desc)
              for n, d, enum, desc in action.inputs]
    duration = str(action.seconds) if action.seconds is not None else None
    return Suspend(name=name, duration=duration, intermediate_parameters=inputs)


def _http(task: Task, name: str, parts: TemplateParts, ctx: BuildContext) -> Template:
    action = task.action
    assert isinstance(action, HttpRequest)
    # An HTTP template runs in Argo's agent, where no $(VAR) is expanded: a Secret is read by the header itself.
    headers = [m.V1alpha1HTTPHeader(name=k, value_from=m.HTTPHeaderSource(
                   secret_key_ref=m.SecretKeySelector(name=v[0].name, key=v[0].key)))
               if len(v) == 1 and isinstance(v[0], SecretRef)
               else m.V1alpha1HTTPHeader(name=k, value=render(v, parts, ctx.task_name_of)) for k, v in action.headers]
    return HTTP(
        name=name, url=render(action.url, parts, ctx.task_name_of), method=action.method, headers=headers or None,
        body=render(action.body, parts, ctx.task_name_of) if action.body is not None else None,
        success_condition=action.success_condition, timeout_seconds=action.timeout_seconds,
    )


def _resource(task: Task, name: str, parts: TemplateParts, ctx: BuildContext) -> Template:
    action = task.action
    assert isinstance(action, Resource)
    return HeraResource(name=name, action=action.action, manifest=action.manifest,
                        success_condition=action.success_condition, failure_condition=action.failure_condition)


def _run_workflow(task: Task, name: str, parts: TemplateParts, ctx: BuildContext) -> Template:
    """Submit the target's WorkflowTemplate as a new Workflow (the service account needs create on workflows)."""
    action = task.action
    assert isinstance(action, RunWorkflow)
    target = dns_label(action.target)
    spec: dict[str, object] = {"workflowTemplateRef": {"name": target}}
    if action.parameters:
        spec["arguments"] = {"parameters": [{"name": parameter_name(k), "value": render(v, parts, ctx.task_name_of)}
                                            for k, v in action.parameters]}
    manifest = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                "metadata": {"generateName": f"{target}-"}, "spec": spec}
    success, failure = (("status.phase == Succeeded", "status.phase in (Failed, Error)") if action.wait
                        else (None, None))
    return HeraResource(name=name, action="create", manifest=json.dumps(manifest, sort_keys=True),
                        success_condition=success, failure_condition=failure)


def _await_workflow(task: Task, name: str, parts: TemplateParts, ctx: BuildContext) -> Template:
    """Poll with kubectl until the newest run of the target (a WorkflowTemplate's or a CronWorkflow's) succeeded;
    the service account needs get/list on workflows."""
    action = task.action
    assert isinstance(action, AwaitWorkflow)
    target = dns_label(action.target)
    script = (
        f"deadline=$(( $(date +%s) + {action.timeout_seconds} ))\n"
        "while true; do\n"
        f"  for selector in workflows.argoproj.io/workflow-template={target} "
        f"workflows.argoproj.io/cron-workflow={dns_label(action.target, 52)}; do\n"
        "    phase=$(kubectl get workflows -l \"$selector\" --sort-by=.metadata.creationTimestamp "
        "-o jsonpath='{.items[-1:].status.phase}')\n"
        '    if [ "$phase" = Succeeded ]; then exit 0; fi\n'
        "  done\n"
        '  if [ "$(date +%s)" -ge "$deadline" ]; then echo "argo-migrate: timed out waiting for '
        f'{target}" >&2; exit 1; fi\n'
        f"  sleep {action.poll_seconds}\n"
        "done\n"
    )
    return Container(name=name, image=ctx.images.kubectl, command=["bash", "-c"], args=[script])


@dataclass
class BuildContext:
    images: Images
    wrapper_options: WrapperOptions
    task_name_of: Callable[[str], str]
    storage: StorageOptions = field(default_factory=StorageOptions)
    # Whether a consumer sees a producer's outputs aggregated (a list, one value per instance).
    fanned_for: Callable[[str, Task], bool] = lambda producer, consumer: False
    # Resources, queue and GPU toleration the command line asks of every pod (--default-resources, --queue…).
    pods: PodOptions = field(default_factory=PodOptions)


Builder = Callable[[Task, str, TemplateParts, BuildContext], Template]

TEMPLATE_TABLE: dict[type, Builder] = {
    ContainerRun: _container,
    PythonCall: _script,
    Noop: _noop,
    Wrapped: _wrapped,
    Wait: _wait,
    HttpRequest: _http,
    Resource: _resource,
    RunWorkflow: _run_workflow,
    AwaitWorkflow: _await_workflow,
    Stage: _stage,
}


def build_template(task: Task, name: str, ctx: BuildContext) -> tuple[Template, TemplateParts]:
    parts = TemplateParts()
    # A file's path is passed by each task (storage.path_arguments), so that jobs of one rule share a template.
    staged = isinstance(task.action, Stage)
    if ctx.storage.mode == "artifacts":
        parts.paths = {p.name: path_of(p) if staged else local_path(p) for p in task.inputs if p.type.is_path}
    parts.paths.update({f"output:{p.name}": path_of(p) if staged else local_path(p)
                        for p in task.outputs if p.type.is_path})
    action: Action = task.action
    template = TEMPLATE_TABLE[type(action)](task, name, parts, ctx)
    _declare_outputs(template, task)
    if isinstance(template, Container | Script):
        _pod_settings(template, task, ctx.pods)
    declared = [*parts.inputs, *(parameter_name(p.name) for p in task.inputs if p.name not in parts.paths)]
    if declared:
        template.inputs = [Parameter(name=k) for k in dict.fromkeys(declared)]
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
    if task.semaphore is not None:
        # The ConfigMap's key holds the limit (Airflow's pool slots), shared by every workflow that uses it.
        ref = m.SemaphoreRef(config_map_key_ref=m.ConfigMapKeySelector(name=SEMAPHORES_CONFIG_MAP,
                                                                      key=task.semaphore))
        template.synchronization = m.Synchronization(semaphores=[ref])
    decorate(template, task, ctx.storage)
    return template, parts


def _int_or_str(value: float | None) -> m.IntOrString | None:
    if value is None:
        return None
    if float(value).is_integer():
        return m.IntOrString(int(value))
    return m.IntOrString(json.dumps(value))
