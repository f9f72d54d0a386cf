"""Scheduling with Argo's semantics (ARGO-SEMANTICS.md §2.1-2.5): DAGs, steps, fan-outs, retries, deadlines, hooks.

Node keys (the report's contract): a DAG task or step is keyed by its name as written; a fan-out child by
``name(0)``, ``name(1)``…; a task or step inside a DAG/steps template called by another is keyed
``<caller key>.<name>`` (``A.B`` for task ``B`` of the DAG that task ``A`` runs; ``loop(1).inner``); an exit hook
of a task or step is ``<key>.onExit`` and the workflow's exit handler is ``onExit`` (its steps ``onExit.notify``).
The entrypoint itself is reported apart, under ``entrypoint``. Retries do not add keys: ``attempts`` counts them.

Per DAG: a task is decided once every task its ``depends`` names is fulfilled: ``depends`` false → Omitted;
then ``withItems``/``withParam``/``withSequence`` expansion (an empty list → one Skipped node); then ``when`` per
item (false → Skipped); then it runs. The DAG's phase is Argo's ``assessDAGPhase``: a breadth-first walk of the task
graph from the roots in which Skipped/Omitted nodes inherit the branch phase, over the target tasks (``dag.target``
or the leaves), with ``continueOn`` targets forgiven. ``dag.failFast`` (default true) is applied as v4.1.2's code
applies it: the assessment is Running while any node runs and comes after every ready task was started, so it
changes no outcome; the template-level ``failFast: true`` (``checkParallelism``) starts no new child after a failed
one. Steps: groups run in order, the steps of a
group in parallel; a failed or errored step whose ``continueOn`` does not cover it fails the template.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from backends.argo.local.executors import EXECUTORS, Cluster, LeafJob
from backends.argo.local.expressions import (
    ExpressionError,
    evaluate_depends,
    evaluate_expr,
    evaluate_when,
    to_text,
)
from backends.argo.local.model import Manifest, ManifestError, dag_depends, parse_duration
from backends.argo.local.paths import ArtifactRepository, PathError, volume_folder
from backends.argo.local.templating import MissingVariable, Scope, substitute, substitute_all
from backends.argo.manifest_model import template_type

FULFILLED = ("Succeeded", "Failed", "Error", "Skipped", "Omitted")
COMPLETED = ("Succeeded", "Failed", "Error")
FAILED = ("Failed", "Error")
WORKFLOW_PHASE = {"Succeeded": "Succeeded", "Skipped": "Succeeded", "Omitted": "Succeeded", "Failed": "Failed",
                  "Error": "Error", "Running": "Failed"}
RESULT_PHASE = {"Succeeded": "Succeeded", "Failed": "Failed", "Errored": "Error", "Skipped": "Skipped",
                "Omitted": "Omitted"}
DEFER = ("tasks.", "steps.", "item", "workflow.outputs.")
DEFAULT_WIDTH = 64  # at most this many children of one DAG/steps template in flight (threads), when no parallelism
NODE_TYPE = {"container": "Pod", "script": "Pod", "dag": "DAG", "steps": "Steps", "suspend": "Suspend",
             "resource": "Resource", "http": "HTTP"}


class LocalError(Exception):
    """A node-level error: the node's phase becomes Error with this message."""


@dataclass
class Options:
    workdir: Path
    jobs: int = 2
    timeout: float = 600.0
    fast_forward: bool = False
    handlers: dict[str, str] = field(default_factory=dict)
    allow_host_path: bool = False
    cluster: Cluster = field(default_factory=Cluster)
    # Where an input artifact's S3 key is looked up when the run has not stored it: the objects a user would have
    # uploaded to the bucket (a migrated workflow's raw inputs). None: nowhere.
    inputs: Path | None = None


@dataclass(frozen=True)
class Deadline:
    at: float = math.inf
    reason: str = ""

    def tighter(self, seconds: float, reason: str) -> Deadline:
        at = time.monotonic() + seconds
        return Deadline(at, reason) if at < self.at else self

    def passed(self) -> bool:
        return time.monotonic() >= self.at


@dataclass
class Node:
    key: str
    template: str
    type: str
    phase: str = "Running"
    message: str = ""
    exit_code: int | None = None
    result: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    attempts: int = 0
    log: str | None = None
    children: list[Node | None] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    finished: float | None = None


@dataclass
class Arguments:
    parameters: dict[str, str] = field(default_factory=dict)
    artifacts: dict[str, Path | None] = field(default_factory=dict)


@dataclass
class RunResult:
    phase: str
    message: str
    root: Node
    nodes: dict[str, Node]
    folder: Path
    started: float
    finished: float


def _iso(t: float | None) -> str:
    return "" if t is None else datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str:
    return "" if value is None else to_text(value)


def _truthy(value: Any, default: bool) -> bool:
    if value is None:
        return default
    return str(value).strip().lower() == "true" if not isinstance(value, bool) else value


def _continues(task: dict[str, Any], phase: str) -> bool:
    policy = task.get("continueOn") or {}
    return bool((phase == "Failed" and policy.get("failed")) or (phase == "Error" and policy.get("error")))


def _failed_child(node: Node) -> bool:
    return node.phase in FAILED or any(c is not None and c.phase in FAILED for c in node.children)


def _safe_name(key: str) -> str:
    # Shell-safe (steps' command lines name these folders unquoted): ( and ) become _, which task names never hold.
    return re.sub(r"[^A-Za-z0-9.\-]", "_", key) or "entrypoint"


def _json(value: Any) -> str:
    """Compact JSON, as Go's json.Marshal writes it."""
    return json.dumps(value, separators=(",", ":"))


def _aggregate(values: list[str]) -> str:
    parsed: list[Any] = []
    for v in values:
        try:
            item = json.loads(v)
        except ValueError:
            return _json(values)
        if not isinstance(item, (dict, list)):
            return _json(values)
        parsed.append(item)
    return _json(parsed)


def _item_values(item: Any, prefix: str = "item") -> dict[str, str]:
    out = {prefix: to_text(item)}
    if isinstance(item, dict):
        for k, v in item.items():
            out.update(_item_values(v, f"{prefix}.{k}"))
    return out


class Runner:
    def __init__(self, manifest: Manifest, options: Options) -> None:
        self.m, self.o = manifest, options
        self.folder = options.workdir
        self.repo = ArtifactRepository(self.folder / "artifacts", manifest.name)
        self.nodes: dict[str, Node] = {}
        self.lock = threading.Lock()
        jobs = max(1, options.jobs)
        if manifest.spec.get("parallelism"):
            jobs = max(1, min(jobs, int(manifest.spec["parallelism"])))
        self.slots = threading.Semaphore(jobs)
        self.globals: dict[str, str] = {}
        self.volumes: dict[str, Path] = {}
        shared = self.folder / "volumes"
        self.roots: tuple[Path, ...] = (self.folder.resolve(),)
        for volume in manifest.spec.get("volumes") or []:
            try:
                folder = volume_folder(volume, shared, shared, options.allow_host_path)
            except PathError as exc:
                raise ManifestError(str(exc)) from None
            self.volumes[str(volume.get("name"))] = folder
        if options.allow_host_path:
            self.roots += tuple(Path(str(v["hostPath"]["path"])).resolve()
                                for t in [manifest.spec, *manifest.templates.values()]
                                for v in (t.get("volumes") or [])
                                if isinstance(v.get("hostPath"), dict) and v["hostPath"].get("path"))
        for claim in manifest.spec.get("volumeClaimTemplates") or []:
            name = str((claim.get("metadata") or {}).get("name"))
            self.volumes[name] = shared / name
        now = time.time()
        self.created = now
        self.wf_values: dict[str, str] = {
            "workflow.name": manifest.name,
            "workflow.namespace": "default",
            "workflow.uid": str(uuid.uuid4()),
            "workflow.serviceAccountName": str(manifest.spec.get("serviceAccountName") or "default"),
            "workflow.mainEntrypoint": manifest.entrypoint,
            "workflow.creationTimestamp": _iso(now),
            "workflow.creationTimestamp.RFC3339": _iso(now),
            "workflow.status": "Running",
            "workflow.parameters": _json([{"name": k, "value": v} for k, v in manifest.parameters.items()]),
            "workflow.parameters.json": _json([{"name": k, "value": v} for k, v in manifest.parameters.items()]),
        }
        stamp = datetime.fromtimestamp(now, timezone.utc)
        for letter in "aAbBcdHIjmMpSUwWxXyYzZ":  # workflow.creationTimestamp.<strftime letter>, as Argo offers
            self.wf_values[f"workflow.creationTimestamp.{letter}"] = stamp.strftime(f"%{letter}")
        self.wf_values["workflow.creationTimestamp.s"] = str(int(now))
        self.wf_values["workflow.scheduledTime"] = _iso(now)  # a CronWorkflow's run: scheduled now
        for k, v in manifest.parameters.items():
            self.wf_values[f"workflow.parameters.{k}"] = v
        for k, v in manifest.labels.items():
            self.wf_values[f"workflow.labels.{k}"] = v
        for k, v in manifest.annotations.items():
            self.wf_values[f"workflow.annotations.{k}"] = v

    # ------------------------------------------------------------------------------------------------ the run

    def run(self) -> RunResult:
        started = time.time()
        hard = Deadline().tighter(self.o.timeout, f"the run exceeded --timeout ({self.o.timeout:g}s)")
        main = hard
        spec_deadline = self.m.spec.get("activeDeadlineSeconds")
        if spec_deadline is not None:
            try:
                main = hard.tighter(parse_duration(spec_deadline), "Step exceeded its deadline (the workflow's "
                                    f"activeDeadlineSeconds of {spec_deadline}s)")
            except ManifestError:
                pass
        args = Arguments(dict(self.m.parameters), {})
        root_artifacts = ((self.m.spec.get("arguments") or {}).get("artifacts")) or []
        try:
            for artifact in root_artifacts:
                args.artifacts[str(artifact.get("name"))] = self._artifact_source(artifact, self._scope())
        except (LocalError, MissingVariable) as exc:
            root = self._final("", self.m.entrypoint, "Error", str(exc), "Pod")
        else:
            root = self.execute("", self.m.entrypoint, args, main)
        phase = WORKFLOW_PHASE.get(root.phase, "Failed")
        message = root.message
        exit_hook = self.m.spec.get("onExit") or ((self.m.spec.get("hooks") or {}).get("exit") or {}).get("template")
        if exit_hook and not hard.passed():
            self.wf_values["workflow.status"] = phase
            self.wf_values["workflow.duration"] = f"{time.time() - started:.6f}"
            failures = [{"displayName": n.key.rsplit(".", 1)[-1], "message": n.message, "templateName": n.template,
                         "phase": n.phase, "podName": f"{self.m.name}-{_safe_name(n.key)}",
                         "finishedAt": _iso(n.finished)}
                        for n in [root, *self.nodes.values()] if n.phase in FAILED]
            self.wf_values["workflow.failures"] = _json(failures)
            hook = (self.m.spec.get("hooks") or {}).get("exit") or {}
            try:
                hook_args = self._arguments(hook, self._scope(), self.m.templates.get(str(exit_hook)))
            except (MissingVariable, ExpressionError, LocalError) as exc:
                exit_node = self._final("onExit", str(exit_hook), "Error", str(exc), "Skipped")
            else:
                exit_node = self.execute("onExit", str(exit_hook), hook_args, hard)
            if phase == "Succeeded" and exit_node.phase in FAILED:
                phase, message = exit_node.phase, exit_node.message or "exit handler failed"
        if hard.passed() and phase == "Succeeded":
            phase, message = "Failed", hard.reason
        return RunResult(phase, message, root, dict(self.nodes), self.folder, started, time.time())

    def _scope(self) -> Scope:
        return Scope({**self.wf_values, **self.globals})

    def _register(self, node: Node) -> Node:
        if node.key:
            with self.lock:
                self.nodes[node.key] = node
        return node

    def _final(self, key: str, template: str, phase: str, message: str, node_type: str) -> Node:
        node = self._register(Node(key, template, node_type, phase, message))
        node.finished = time.time()
        return node

    # ------------------------------------------------------------------------------------------------ one node

    def execute(self, key: str, template_name: str, args: Arguments, deadline: Deadline) -> Node:
        template = self.m.templates.get(template_name)
        ttype = template_type(template) if template else None
        node = self._register(Node(key, template_name, NODE_TYPE.get(ttype or "", "Pod")))
        try:
            if template is None:
                raise LocalError(f"template {template_name!r} is not defined")
            self._run_node(node, template, args, deadline)
        except (LocalError, MissingVariable, ExpressionError, ManifestError) as exc:
            node.phase, node.message = "Error", str(exc)
        except Exception as exc:  # a bug of ours: an Error node with the reason, never a traceback on the console
            node.phase = "Error"
            node.message = f"internal error of the local runner: {exc!r}"
            (self.folder / "internal-errors.log").open("a").write(traceback.format_exc())
        node.finished = time.time()
        return node

    def _run_node(self, node: Node, template: dict[str, Any], args: Arguments, deadline: Deadline) -> None:
        base = self._scope()
        values, artifacts = self._inputs(template, args, base)
        scope = base.child(values)
        if template.get("timeout"):
            seconds = parse_duration(substitute(str(template["timeout"]), scope), "timeout")
            deadline = deadline.tighter(seconds, f"Step exceeded its deadline (timeout {template['timeout']})")
        retry = template.get("retryStrategy")
        first = time.monotonic()
        attempt = 0
        while True:
            attempt_started = time.monotonic()
            attempt_scope = scope.child({"retries": str(attempt), "pod.name": f"{self.m.name}-{_safe_name(node.key)}",
                                         "node.name": node.key or self.m.name})
            self._attempt(node, template, attempt_scope, artifacts, deadline, attempt)
            node.attempts = attempt + 1
            if retry is None or node.phase not in FAILED or deadline.passed():
                return
            wait_s = self._retry_wait(retry, node, attempt, scope, first, time.monotonic() - attempt_started)
            if wait_s is None:
                return
            if not self.o.fast_forward and wait_s > 0:
                time.sleep(max(0.0, min(wait_s, deadline.at - time.monotonic())))
                if deadline.passed():
                    node.message = deadline.reason
                    return
            attempt += 1

    def _retry_wait(self, retry: dict[str, Any], node: Node, attempt: int, scope: Scope, first: float,
                    duration: float) -> float | None:
        """Seconds to wait before the next attempt, or None when Argo would not retry."""
        if retry.get("limit") is not None:
            limit = int(substitute(str(retry["limit"]), scope))
            if attempt >= limit:
                return None
        policy = str(retry.get("retryPolicy") or ("Always" if retry.get("expression") else "OnFailure"))
        wanted = {"Always": FAILED, "OnFailure": ("Failed",), "OnError": ("Error",)}.get(policy, ())
        if node.phase not in wanted:
            return None
        if retry.get("expression"):
            env = scope.env()
            env["lastRetry"] = {"exitCode": "" if node.exit_code is None else str(node.exit_code),
                                "status": node.phase, "duration": str(int(duration)), "message": node.message}
            verdict = evaluate_expr(substitute(str(retry["expression"]), scope), env)
            if verdict is not True:
                return None
        backoff = retry.get("backoff") or {}
        wait_s = parse_duration(substitute(str(backoff.get("duration", 0)), scope), "backoff.duration")
        factor = float(substitute(str(backoff.get("factor", 1)), scope))
        wait_s *= factor ** attempt
        if backoff.get("cap") is not None:
            wait_s = min(wait_s, parse_duration(backoff["cap"], "backoff.cap"))
        if backoff.get("maxDuration") is not None:
            limit_s = parse_duration(substitute(str(backoff["maxDuration"]), scope), "backoff.maxDuration")
            if time.monotonic() - first + wait_s > limit_s:
                node.message += "; retries stopped: backoff.maxDuration reached"
                return None
        return wait_s

    def _attempt(self, node: Node, template: dict[str, Any], scope: Scope, artifacts: dict[str, Path | None],
                 deadline: Deadline, attempt: int) -> None:
        ttype = template_type(template) or ""
        if template.get("daemon"):
            raise LocalError("daemon templates are not supported by the local runner")
        if ttype in ("dag", "steps"):
            body = substitute_all({k: v for k, v in template.items() if k != "retryStrategy"}, scope, DEFER)
            runner = self._run_dag if ttype == "dag" else self._run_steps
            phase, message, inner = runner(node, body, scope, deadline)
            node.phase, node.message = phase, message
            if phase == "Succeeded":
                self._template_outputs(node, body, inner)
            return
        if template.get("activeDeadlineSeconds") is not None:
            seconds = parse_duration(substitute(str(template["activeDeadlineSeconds"]), scope),
                                     "activeDeadlineSeconds")
            deadline = deadline.tighter(seconds, "Pod was active on the node longer than the specified deadline "
                                                 f"({template['activeDeadlineSeconds']}s)")
        body = substitute_all({k: v for k, v in template.items() if k != "retryStrategy"}, scope)
        folder = self.folder / "nodes" / _safe_name(node.key) / f"attempt-{attempt}"
        inputs = {k.split(".", 2)[2]: v for k, v in scope.values.items() if k.startswith("inputs.parameters.")}
        job = LeafJob(node.key, body, folder, self.volumes, artifacts, deadline.at, deadline.reason, self.slots,
                      self.o.fast_forward, self.o.handlers, inputs, self.roots, self.o.allow_host_path,
                      self.o.cluster)
        result = EXECUTORS[ttype](job)
        node.phase, node.message, node.exit_code, node.result = (result.phase, result.message, result.exit_code,
                                                                 result.result)
        node.parameters = dict(result.parameters)
        node.artifacts = {}
        node.log = str(folder.relative_to(self.folder)) if folder.exists() else None
        declared = {str(a.get("name")): a for a in (body.get("outputs") or {}).get("artifacts") or []}
        for name, path in result.artifacts.items():
            s3 = declared.get(name, {}).get("s3") or {}
            stored = self.repo.save(path, node.key, name, str(s3["key"]) if s3.get("key") else None)
            node.artifacts[name] = str(stored)
        self._export_globals(body, node)

    def _export_globals(self, body: dict[str, Any], node: Node) -> None:
        outputs = body.get("outputs") or {}
        for param in outputs.get("parameters") or []:
            if param.get("globalName") and str(param.get("name")) in node.parameters:
                with self.lock:
                    self.globals[f"workflow.outputs.parameters.{param['globalName']}"] = \
                        node.parameters[str(param["name"])]
        for artifact in outputs.get("artifacts") or []:
            if artifact.get("globalName") and str(artifact.get("name")) in node.artifacts:
                with self.lock:
                    self.globals[f"workflow.outputs.artifacts.{artifact['globalName']}"] = \
                        node.artifacts[str(artifact["name"])]

    # ------------------------------------------------------------------------------------------------ inputs

    def _inputs(self, template: dict[str, Any], args: Arguments, scope: Scope
                ) -> tuple[dict[str, str], dict[str, Path | None]]:
        values: dict[str, str] = {}
        listed: list[dict[str, str]] = []
        inputs = template.get("inputs") or {}
        for param in inputs.get("parameters") or []:
            name = str(param.get("name"))
            if name in args.parameters:
                value = args.parameters[name]
            elif "value" in param:
                value = substitute(_text(param["value"]), scope.child(values))
            elif "default" in param:
                value = substitute(_text(param["default"]), scope.child(values))
            else:
                raise LocalError(f"inputs.parameters.{name} was not supplied")
            enum = param.get("enum")
            if enum and value not in [_text(e) for e in enum]:
                raise LocalError(f"inputs.parameters.{name} = {value!r} is not one of {enum}")
            values[f"inputs.parameters.{name}"] = value
            listed.append({"name": name, "value": value})
        values["inputs.parameters"] = _json(listed)
        artifacts: dict[str, Path | None] = {}
        for artifact in inputs.get("artifacts") or []:
            name = str(artifact.get("name"))
            if artifact.get("path"):
                values[f"inputs.artifacts.{name}.path"] = str(artifact["path"])
            source = args.artifacts[name] if name in args.artifacts else self._artifact_source(artifact, scope)
            if source is not None and not source.exists():
                if not artifact.get("optional"):
                    raise LocalError(f"input artifact {name!r}: {source} does not exist")
                source = None
            if source is None and not artifact.get("optional") and name not in args.artifacts:
                raise LocalError(f"input artifact {name!r} was not supplied")
            artifacts[name] = source
            if source is not None:
                values[f"inputs.artifacts.{name}"] = str(source)
        outputs = template.get("outputs") or {}
        for artifact in outputs.get("artifacts") or []:
            if artifact.get("path"):
                values[f"outputs.artifacts.{artifact.get('name')}.path"] = str(artifact["path"])
        for param in outputs.get("parameters") or []:
            value_from = param.get("valueFrom") if isinstance(param.get("valueFrom"), dict) else {}
            if value_from.get("path"):
                values[f"outputs.parameters.{param.get('name')}.path"] = str(value_from["path"])
        return values, artifacts

    def _artifact_source(self, artifact: dict[str, Any], scope: Scope) -> Path | None:
        """Where an artifact's content is on this machine: ``from``, ``raw``, or an ``s3.key`` of the repository."""
        name = str(artifact.get("name"))
        if artifact.get("from"):
            return Path(substitute(str(artifact["from"]), scope))
        if isinstance(artifact.get("raw"), dict):
            raw = self.folder / "raw" / uuid.uuid4().hex
            raw.parent.mkdir(parents=True, exist_ok=True)
            raw.write_text(substitute(_text(artifact["raw"].get("data")), scope), encoding="utf-8")
            return raw
        if isinstance(artifact.get("s3"), dict) and artifact["s3"].get("key"):
            key = substitute(str(artifact["s3"]["key"]), scope)
            stored = self.repo.key_path(key)
            if not stored.exists() and self.o.inputs is not None:
                uploaded = ArtifactRepository(self.o.inputs, self.repo.workflow).key_path(key)
                if uploaded.exists():
                    return uploaded
            return stored
        for kind in ("http", "git", "gcs", "oss", "hdfs", "azure", "artifactory", "s3", "plugin"):
            if artifact.get(kind) is not None:
                if artifact.get("optional"):
                    return None
                raise LocalError(f"artifact {name!r}: {kind} artifacts are not fetched by the local runner")
        return None

    def _arguments(self, task: dict[str, Any], scope: Scope, callee: dict[str, Any] | None) -> Arguments:
        """A task's (or step's, or hook's) arguments; a missing reference falls back to the callee's default."""
        out = Arguments()
        defaults = {str(p.get("name")): p for p in ((callee or {}).get("inputs") or {}).get("parameters") or []}
        arguments = task.get("arguments") or {}
        for param in arguments.get("parameters") or []:
            name = str(param.get("name"))
            if "value" in param:
                try:
                    out.parameters[name] = substitute(_text(param["value"]), scope)
                except MissingVariable:
                    if "default" in defaults.get(name, {}):
                        continue  # ARGO-SEMANTICS §2.5: the consumer input's default applies
                    raise
            elif param.get("valueFrom"):
                raise LocalError(f"argument {name!r}: valueFrom {sorted(param['valueFrom'])} is not supported "
                                 "by the local runner")
        for artifact in arguments.get("artifacts") or []:
            try:
                out.artifacts[str(artifact.get("name"))] = self._artifact_source(artifact, scope)
            except MissingVariable:
                if not artifact.get("optional"):  # an optional artifact that is not there is dropped, as in Argo
                    raise
        return out

    # ------------------------------------------------------------------------------------------------ outputs

    def _vars(self, kind: str, name: str, node: Node) -> dict[str, str]:
        """``tasks.<name>.*`` or ``steps.<name>.*`` for a fulfilled node (absent outputs stay absent)."""
        p = f"{kind}.{name}"
        out = {f"{p}.status": node.phase, f"{p}.id": node.key, f"{p}.startedAt": _iso(node.started),
               f"{p}.finishedAt": _iso(node.finished)}
        if node.type == "TaskGroup":
            children = [c for c in node.children if c is not None and c.phase == "Succeeded"]
            results = []
            for c in children:
                if c.result is not None:
                    try:
                        results.append(json.loads(c.result))
                    except ValueError:
                        results.append(c.result)
            out[f"{p}.outputs.result"] = _json(results)
            out[f"{p}.outputs.parameters"] = _json([c.parameters for c in children if c.parameters])
            names = list(dict.fromkeys(k for c in children for k in c.parameters))
            for pname in names:
                out[f"{p}.outputs.parameters.{pname}"] = _aggregate(
                    [c.parameters[pname] for c in children if pname in c.parameters])
            return out
        if node.phase in ("Skipped", "Omitted"):
            template = self.m.templates.get(node.template) or {}
            for param in (template.get("outputs") or {}).get("parameters") or []:
                source = param.get("valueFrom") if isinstance(param.get("valueFrom"), dict) else {}
                if "default" in source:
                    out[f"{p}.outputs.parameters.{param.get('name')}"] = _text(source["default"])
            return out
        if node.exit_code is not None:
            out[f"{p}.exitCode"] = str(node.exit_code)
        if node.result is not None:
            out[f"{p}.outputs.result"] = node.result
        for k, v in node.parameters.items():
            out[f"{p}.outputs.parameters.{k}"] = v
        for k, v in node.artifacts.items():
            out[f"{p}.outputs.artifacts.{k}"] = v
        return out

    def _template_outputs(self, node: Node, body: dict[str, Any], scope: Scope) -> None:
        """A DAG's or steps template's outputs, from its tasks' or steps' outputs."""
        outputs = body.get("outputs") or {}
        for param in outputs.get("parameters") or []:
            name = str(param.get("name"))
            source = param.get("valueFrom") if isinstance(param.get("valueFrom"), dict) else {}
            value: str | None = None
            try:
                if source.get("parameter") is not None:
                    value = substitute(_text(source["parameter"]), scope)
                elif source.get("expression") is not None:
                    result = evaluate_expr(str(source["expression"]), scope.env())
                    value = None if result is None else to_text(result)
                elif "value" in param:
                    value = substitute(_text(param["value"]), scope)
            except (MissingVariable, ExpressionError) as exc:
                if "default" not in source:
                    node.phase, node.message = "Error", f"output parameter {name!r}: {exc}"
                    return
            if value is None and "default" in source:
                value = _text(source["default"])
            if value is None:
                node.phase, node.message = "Error", f"output parameter {name!r} has no value"
                return
            node.parameters[name] = value
        for artifact in outputs.get("artifacts") or []:
            if artifact.get("from"):
                try:
                    node.artifacts[str(artifact.get("name"))] = substitute(str(artifact["from"]), scope)
                except MissingVariable as exc:
                    if not artifact.get("optional"):
                        node.phase, node.message = "Error", f"output artifact {artifact.get('name')!r}: {exc}"
                        return
        self._export_globals(body, node)

    # ------------------------------------------------------------------------------------------------ fan-out

    def _items(self, task: dict[str, Any], scope: Scope) -> list[Any] | None:
        if task.get("withItems") is not None:
            items = substitute_all(task["withItems"], scope)
            if not isinstance(items, list):
                raise LocalError("withItems is not a list")
            return items
        if task.get("withParam") is not None:
            text = substitute(str(task["withParam"]), scope)
            try:
                items = json.loads(text)
            except ValueError:
                raise LocalError(f"withParam value could not be parsed as a JSON list: {text[:200]}") from None
            if not isinstance(items, list):
                raise LocalError(f"withParam value is not a JSON list: {text[:200]}")
            return items
        if task.get("withSequence") is not None:
            seq = substitute_all(task["withSequence"], scope)
            try:
                start = int(seq.get("start") or 0)
                if seq.get("count") is not None:
                    numbers = list(range(start, start + int(seq["count"])))
                elif seq.get("end") is not None:
                    end = int(seq["end"])
                    numbers = list(range(start, end + 1)) if end >= start else list(range(start, end - 1, -1))
                else:
                    raise LocalError("withSequence needs count or end")
            except ValueError as exc:
                raise LocalError(f"withSequence: {exc}") from None
            fmt = seq.get("format")
            return [(str(fmt) % n) if fmt else str(n) for n in numbers]
        return None

    def _plan(self, name: str, key: str, task: dict[str, Any], scope: Scope, deadline: Deadline, kind: str
              ) -> tuple[Node | None, list[tuple[int | None, str, Callable[[], Node]]]]:
        """Expand one task or step and decide each item: the node known now (final or a TaskGroup) and the jobs."""
        callee = str(task.get("template") or "")
        if not callee:
            what = "templateRef" if task.get("templateRef") else "inline templates" if task.get("inline") else "it"
            return self._final(key, "", "Error", f"{what} is not supported by the local runner", "Skipped"), []
        try:
            items = self._items(task, scope)
        except (LocalError, MissingVariable, ExpressionError) as exc:
            return self._final(key, callee, "Error", str(exc), "Skipped"), []
        if items is None:
            decided = self._decide(name, key, task, scope, callee, deadline, kind)
            return (decided, []) if isinstance(decided, Node) else (None, [(None, key, decided)])
        if not items:
            return self._final(key, callee, "Skipped", "Skipped, empty params", "Skipped"), []
        group = self._register(Node(key, callee, "TaskGroup"))
        group.children = [None] * len(items)
        jobs: list[tuple[int | None, str, Callable[[], Node]]] = []
        for i, item in enumerate(items):
            child_key = f"{key}({i})"
            decided = self._decide(name, child_key, task, scope.child(_item_values(item), {"item": item}), callee,
                                   deadline, kind)
            if isinstance(decided, Node):
                group.children[i] = decided
            else:
                jobs.append((i, child_key, decided))
        if not jobs:
            self._close_group(group)
        return group, jobs

    def _decide(self, name: str, key: str, task: dict[str, Any], scope: Scope, callee: str, deadline: Deadline,
                kind: str) -> Node | Callable[[], Node]:
        try:
            args = self._arguments(task, scope, self.m.templates.get(callee))
            if task.get("when") is not None:
                when = substitute(_text(task["when"]), scope)
                if not evaluate_when(when):
                    return self._final(key, callee, "Skipped", f"when '{when}' evaluated false", "Skipped")
        except (LocalError, MissingVariable, ExpressionError) as exc:
            return self._final(key, callee, "Error", str(exc), "Skipped")

        def job() -> Node:
            node = self.execute(key, callee, args, deadline)
            hook = (task.get("hooks") or {}).get("exit") or ({"template": task["onExit"]} if task.get("onExit")
                                                              else None)
            if hook and node.phase in COMPLETED and not deadline.passed():
                hook_scope = scope.child(self._vars(kind, name, node))
                hook_template = str(hook.get("template") or "")
                try:
                    hook_args = self._arguments(hook, hook_scope, self.m.templates.get(hook_template))
                except (LocalError, MissingVariable, ExpressionError) as exc:
                    self._final(f"{key}.onExit", hook_template, "Error", str(exc), "Skipped")
                else:
                    self.execute(f"{key}.onExit", hook_template, hook_args, deadline)
            return node

        return job

    @staticmethod
    def _close_group(group: Node) -> None:
        children = [c for c in group.children if c is not None]
        group.children = list(children)
        phase = "Succeeded"
        for child in children:
            if child.phase in FAILED:
                phase = child.phase
        group.phase = phase
        group.finished = time.time()

    @staticmethod
    def _spawn(fn: Callable[[], Node]) -> Future[Node]:
        future: Future[Node] = Future()

        def target() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:  # noqa: B036 - handed to the scheduler, which makes it an Error node
                future.set_exception(exc)

        threading.Thread(target=target, daemon=True).start()
        return future

    def _collect(self, future: Future[Node], key: str, callee: str) -> Node:
        try:
            return future.result()
        except Exception as exc:
            return self._final(key, callee, "Error", f"internal error of the local runner: {exc!r}", "Pod")

    # ------------------------------------------------------------------------------------------------ DAG

    def _run_dag(self, node: Node, body: dict[str, Any], scope: Scope, deadline: Deadline
                 ) -> tuple[str, str, Scope]:
        dag = body["dag"]
        tasks = {str(t.get("name")): t for t in dag.get("tasks") or []}
        depends = {n: dag_depends(t) for n, t in tasks.items()}
        dep_names = {n: (d.tasks() if d else []) for n, d in depends.items()}
        if dag.get("target"):
            targets = str(dag["target"]).split()
            unknown = [t for t in targets if t not in tasks]
            if unknown:
                return "Error", f"dag.target names {unknown}, which are not tasks of this DAG", scope
        else:
            named = {d for names in dep_names.values() for d in names}
            targets = [n for n in tasks if n not in named]
        relevant: set[str] = set()
        stack = list(targets)
        while stack:
            current = stack.pop()
            if current not in relevant:
                relevant.add(current)
                stack.extend(dep_names[current])
        order = [n for n in tasks if n in relevant]
        fail_fast = _truthy(dag.get("failFast"), True)
        template_fail_fast = _truthy(body.get("failFast"), False)
        width = int(body.get("parallelism") or 0) or DEFAULT_WIDTH
        prefix = f"{node.key}." if node.key else ""

        decided: dict[str, Node] = {}
        planned: set[str] = set()
        done: set[str] = set()
        waiting: dict[str, int] = {}
        queue: deque[tuple[str, int | None, str, Callable[[], Node]]] = deque()
        running: dict[Future[Node], tuple[str, int | None, str]] = {}
        stopped = ""

        def result(task: str, res: str) -> bool:
            n = decided[task]
            if res == "AnySucceeded":
                return n.type == "TaskGroup" and any(c is not None and c.phase == "Succeeded" for c in n.children)
            if res == "AllFailed":
                kids = [c for c in n.children if c is not None]
                return n.type == "TaskGroup" and bool(kids) and all(c.phase == "Failed" for c in kids)
            return res in RESULT_PHASE and n.phase == RESULT_PHASE[res]

        def continue_on(task: str) -> dict[str, Any]:
            policy = tasks[task].get("continueOn")
            return policy if isinstance(policy, dict) else {}

        def task_scope() -> Scope:
            values: dict[str, str] = dict(self.globals)
            for name in done:
                values.update(self._vars("tasks", name, decided[name]))
            return scope.child(values)

        def settle(name: str, n: Node) -> None:
            decided[name] = n
            if n.phase in FULFILLED:
                done.add(name)

        while True:
            progressed = True
            while progressed:
                progressed = False
                if not stopped and deadline.passed():
                    stopped = deadline.reason
                if not stopped:
                    for name in order:
                        if name in planned or any(d not in done for d in dep_names[name]):
                            continue
                        progressed = True
                        planned.add(name)
                        expr = depends[name]
                        if expr is not None and not evaluate_depends(expr, result, continue_on):
                            settle(name, self._final(prefix + name, str(tasks[name].get("template") or ""),
                                                     "Omitted", "omitted: depends condition not met", "Skipped"))
                            continue
                        known, jobs = self._plan(name, prefix + name, tasks[name], task_scope(), deadline, "tasks")
                        if known is not None:
                            settle(name, known)
                        if jobs:
                            waiting[name] = len(jobs)
                            queue.extend((name, i, k, fn) for i, k, fn in jobs)
                # The template-level failFast (default false; checkParallelism): after a failed child, no new child.
                if template_fail_fast and not stopped and queue and any(_failed_child(n) for n in decided.values()):
                    stopped = "failFast"
                while queue and len(running) < width and not stopped:
                    name, index, key, fn = queue.popleft()
                    running[self._spawn(fn)] = (name, index, key)
                if stopped and queue:
                    for name, index, _key, _fn in queue:
                        waiting[name] -= 1
                        if index is not None and waiting[name] == 0 and name in decided:
                            self._close_group(decided[name])
                            done.add(name)
                    queue.clear()
            if not running:
                break
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in finished:
                name, index, key = running.pop(future)
                child = self._collect(future, key, str(tasks[name].get("template") or ""))
                if index is None:
                    settle(name, child)
                else:
                    group = decided[name]
                    group.children[index] = child
                    waiting[name] -= 1
                    if waiting[name] == 0:
                        self._close_group(group)
                        done.add(name)

        phase = self._assess(tasks, dep_names, decided, targets, fail_fast)
        final_scope = task_scope()
        if phase in FAILED:
            failed = [n.key for n in decided.values() if n.phase in FAILED]
            return phase, f"child {failed[0]!r} failed" if failed else "a target task failed", final_scope
        if phase != "Succeeded":
            return "Failed", stopped if stopped and stopped != "failFast" else "not every target task ran", \
                final_scope
        return "Succeeded", "", final_scope

    def _assess(self, tasks: dict[str, dict[str, Any]], dep_names: dict[str, list[str]], decided: dict[str, Node],
                targets: list[str], fail_fast: bool) -> str:
        """``assessDAGPhase`` over the nodes that exist: Succeeded, Failed, Error, or Running."""
        def outbound(name: str) -> list[str]:
            n = decided[name]
            kids = [i for i, c in enumerate(n.children) if c is not None]
            return [f"{name}#{i}" for i in kids] if n.type == "TaskGroup" and kids else [name]

        def phase_of(unit: str) -> str:
            if "#" in unit:
                name, i = unit.split("#")
                child = decided[name].children[int(i)]
                return child.phase if child is not None else "Running"
            return decided[unit].phase

        successors: dict[str, list[str]] = {}
        for name in decided:
            node = decided[name]
            if node.type == "TaskGroup":
                successors.setdefault(name, []).extend(f"{name}#{i}" for i, c in enumerate(node.children)
                                                       if c is not None)
            for dep in dep_names[name]:
                if dep in decided:
                    for unit in outbound(dep):
                        successors.setdefault(unit, []).append(name)
        queue = deque((name, "Succeeded") for name in decided if not dep_names[name])
        seen: set[tuple[str, str]] = set(queue)
        branch_of: dict[str, str] = {}
        while queue:
            unit, branch = queue.popleft()
            phase = phase_of(unit)
            if phase in COMPLETED:
                branch = phase
            if unit in targets and branch_of.get(unit, "") not in FAILED:
                branch_of[unit] = branch
            for nxt in successors.get(unit, []):
                if (nxt, branch) not in seen:
                    seen.add((nxt, branch))
                    queue.append((nxt, branch))
        result = "Succeeded"
        for target in targets:
            branch = branch_of.get(target, "")
            if branch == "" or (target in decided and decided[target].phase not in FULFILLED):
                result = "Running"
                if not fail_fast:
                    break
            elif branch in FAILED:
                if _continues(tasks[target], branch):
                    continue
                result = branch
                if fail_fast:
                    break
        return result

    # ------------------------------------------------------------------------------------------------ steps

    def _run_steps(self, node: Node, body: dict[str, Any], scope: Scope, deadline: Deadline
                   ) -> tuple[str, str, Scope]:
        prefix = f"{node.key}." if node.key else ""
        width = int(body.get("parallelism") or 0) or DEFAULT_WIDTH
        step_values: dict[str, str] = {}
        for group in body.get("steps") or []:
            if deadline.passed():
                return "Failed", deadline.reason, scope.child(step_values)
            group_scope = scope.child({**self.globals, **step_values})
            entries: list[tuple[str, dict[str, Any], Node | None]] = []
            queue: deque[tuple[int, int | None, str, Callable[[], Node]]] = deque()
            for position, step in enumerate(group or []):
                name = str(step.get("name"))
                known, jobs = self._plan(name, prefix + name, step, group_scope, deadline, "steps")
                entries.append((name, step, known))
                queue.extend((position, i, k, fn) for i, k, fn in jobs)
            running: dict[Future[Node], tuple[int, int | None, str]] = {}
            while queue or running:
                while queue and len(running) < width:
                    position, index, key, fn = queue.popleft()
                    if deadline.passed():
                        continue
                    running[self._spawn(fn)] = (position, index, key)
                if not running:
                    break
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in finished:
                    position, index, key = running.pop(future)
                    name, step, known = entries[position]
                    child = self._collect(future, key, str(step.get("template") or ""))
                    if index is None:
                        entries[position] = (name, step, child)
                    elif known is not None:
                        known.children[index] = child
            failure = ""
            for name, step, known in entries:
                if known is None:
                    continue
                if known.type == "TaskGroup" and known.phase not in FULFILLED:
                    self._close_group(known)
                step_values.update(self._vars("steps", name, known))
                members = [c for c in known.children if c is not None] if known.type == "TaskGroup" else [known]
                for member in members:
                    if member.phase in FAILED and not _continues(step, member.phase) and not failure:
                        failure = f"child {member.key!r} failed"
            if failure:
                return "Failed", failure, scope.child(step_values)
        return "Succeeded", "", scope.child({**self.globals, **step_values})
