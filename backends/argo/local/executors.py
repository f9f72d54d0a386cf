"""One function per leaf template type: a table from type to executor, like the backend's template table.

- ``container``: ``command`` + ``args`` run on the host; the image is recorded, never pulled. A container without
  ``command`` would run its image's entrypoint, which this machine does not have: the node fails saying so.
- ``script``: ``source`` written to a file and run as ``command + args + [file]``, as Argo does.
- A command not found on the host fails the node with exit code 127 and the reason. For an image whose name starts
  with ``python`` (``python:3.12-slim``, ``python:alpine3.23``), ``python``/``python3`` run the interpreter that
  runs argo-migrate.
- ``suspend``: waits its ``duration`` (or not at all with ``--fast-forward``); one without a duration would wait for
  ``argo resume``, so it is resumed at once and says so. Output parameters take ``valueFrom.supplied`` defaults.
- ``resource`` and ``http``: not run (phase Skipped, with the reason) unless ``--handler TYPE=COMMAND`` names a
  local command, which gets the template as JSON on stdin; its exit status is the phase, its stdout the result.
- ``containerSet``, ``data``, ``plugin``: an Error node naming the type.

Every process gets a clean environment (``PATH``, ``HOME``, ``LANG`` and the template's ``env``), its own process
group (killed on deadline), stdout and stderr in the attempt folder, and the path mapping of
:mod:`~backends.argo.local.paths`.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from backends.argo.local.model import ManifestError, parse_duration
from backends.argo.local.paths import PathError, PathMap, build_map, confined, copy, volume_folder

RESULT_LIMIT = 256 * 1024  # Argo keeps the last 256 kB of stdout as outputs.result
NOT_FOUND = 127

# Every process group a step or handler runs in, so that an interrupted run kills them all (FINDINGS F10); once
# ``stopping`` is set, no new process starts.
_LIVE: set[subprocess.Popen[bytes]] = set()
_LIVE_LOCK = threading.Lock()
_STOPPING = threading.Event()


def _start(argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    with _LIVE_LOCK:
        if _STOPPING.is_set():
            raise OSError("the run was interrupted")
        proc = subprocess.Popen(argv, start_new_session=True, **kwargs)
        _LIVE.add(proc)
        return proc


def _done(proc: subprocess.Popen[bytes]) -> None:
    with _LIVE_LOCK:
        _LIVE.discard(proc)


# How long a step has between SIGTERM and SIGKILL: Kubernetes' default terminationGracePeriodSeconds, the time a
# wrapper has to cancel its remote job when the workflow is stopped.
GRACE_S = 30.0


def stop_everything(grace: float = GRACE_S) -> int:
    """Refuse new processes, send SIGTERM to the group of every running one, give them ``grace`` seconds together,
    then SIGKILL what is left; how many there were."""
    _STOPPING.set()
    with _LIVE_LOCK:
        running = list(_LIVE)
    for proc in running:
        _signal_group(proc, signal.SIGTERM)
    until = time.monotonic() + grace
    for proc in running:
        try:
            proc.wait(timeout=max(0.0, until - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for proc in running:
        _signal_group(proc, signal.SIGKILL)
    return len(running)


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the group of the process we started, by its id
    except ProcessLookupError:
        pass


def reset() -> None:
    """Allow processes again (a new run in the same interpreter, as tests do)."""
    _STOPPING.clear()


@dataclass
class Attempt:
    phase: str
    message: str = ""
    exit_code: int | None = None
    result: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    artifacts: dict[str, Path] = field(default_factory=dict)  # produced files, stored by the engine


@dataclass(frozen=True)
class Cluster:
    """What a cluster would provide and this machine stands in for, as the user maps it (``--image``,
    ``--secret``, ``--config-map``): an image is a host prefix (a virtualenv, ``/usr``) whose ``bin`` comes first
    on the step's ``PATH``; a Secret or ConfigMap is a folder with one file per key (what ``kubectl create secret
    generic NAME --from-file=DIR`` reads)."""

    images: dict[str, Path] = field(default_factory=dict)
    secrets: dict[str, Path] = field(default_factory=dict)
    config_maps: dict[str, Path] = field(default_factory=dict)
    # Where a ConfigMap not given explicitly is looked for as a folder of its name: the manifest's folder, where
    # argo-migrate writes the DAG files' ConfigMap (argo-migrate-dags/). Never Secrets: they are not written there.
    config_map_search: tuple[Path, ...] = ()

    def _folder(self, kind: str, name: str) -> Path | None:
        if kind == "secret":
            return self.secrets.get(name)
        if name in self.config_maps:
            return self.config_maps[name]
        if name and "/" not in name and not name.startswith("."):
            for base in self.config_map_search:
                if (base / name).is_dir():
                    return base / name
        return None

    def key(self, kind: str, name: str, key: str) -> str | None:
        """The value of one key of a Secret (``kind`` "secret") or ConfigMap, or None when it is not given."""
        folder = self._folder(kind, name)
        if folder is None or not key or "/" in key or key.startswith(".."):
            return None
        try:
            return (folder / key).read_text(encoding="utf-8")
        except OSError:
            return None

    def keys(self, kind: str, name: str) -> dict[str, str] | None:
        folder = self._folder(kind, name)
        if folder is None:
            return None
        return {f.name: f.read_text(encoding="utf-8") for f in sorted(folder.iterdir())
                if f.is_file() and not f.name.startswith(".")}


@dataclass
class LeafJob:
    key: str
    template: dict[str, Any]  # substituted
    folder: Path  # this attempt's folder
    volumes: dict[str, Path]
    input_artifacts: dict[str, Path | None]
    deadline_at: float  # time.monotonic() value
    deadline_reason: str
    slots: threading.Semaphore
    fast_forward: bool = False
    handlers: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)  # input parameter values, by name
    roots: tuple[Path, ...] = ()  # what the runner may read and write: the run folder, and allowed host paths
    allow_host_path: bool = False
    cluster: Cluster = field(default_factory=lambda: Cluster())


def _remaining(job: LeafJob) -> float:
    return job.deadline_at - time.monotonic()


def _prepare(job: LeafJob) -> PathMap:
    fs = job.folder / "fs"
    if job.folder.exists():
        shutil.rmtree(job.folder)
    fs.mkdir(parents=True)
    volumes = dict(job.volumes)
    for volume in job.template.get("volumes") or []:
        name = str(volume.get("name"))
        volumes[name] = volume_folder(volume, job.folder / "volumes", job.folder / "volumes", job.allow_host_path)
        _fill_volume(job, volume, volumes[name])
    pm = build_map(job.template, fs, volumes)
    for artifact in (job.template.get("inputs") or {}).get("artifacts") or []:
        source = job.input_artifacts.get(str(artifact.get("name")))
        if source is None or not artifact.get("path"):
            continue
        target = Path(pm.host(str(artifact["path"])))
        copy(source, target, job.roots)
    return pm


def _fill_volume(job: LeafJob, volume: dict[str, Any], folder: Path) -> None:
    """A Secret or ConfigMap volume gets a private copy of the keys the user mapped (read-only for the step, as
    Kubernetes mounts them); one that is not mapped is an error unless it is optional."""
    for kind, field_name, name_key in (("secret", "secret", "secretName"), ("configmap", "configMap", "name")):
        source = volume.get(field_name)
        if not isinstance(source, dict):
            continue
        name = str(source.get(name_key) or "")
        values = job.cluster.keys(kind, name)
        if values is None:
            if source.get("optional"):
                folder.mkdir(parents=True, exist_ok=True)
                return
            flag = "--secret" if kind == "secret" else "--config-map"
            raise PathError(f"volume {volume.get('name')!r} needs {'Secret' if kind == 'secret' else 'ConfigMap'} "
                            f"{name!r}: give it with {flag} {name}=DIR")
        items = source.get("items") if isinstance(source.get("items"), list) else None
        chosen = {str(i.get("path") or i.get("key")): values[str(i.get("key"))] for i in items
                  if str(i.get("key")) in values} if items else values
        folder.mkdir(parents=True, exist_ok=True)
        for key, value in chosen.items():
            target = folder / key
            if ".." in PurePosixPath(key).parts or key.startswith("/"):
                raise PathError(f"volume {volume.get('name')!r}: key path {key!r} refused")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(value, encoding="utf-8")
            target.chmod(0o400 if kind == "secret" else 0o444)
        return


def _executable(name: str, image: str, images: dict[str, Path] | None = None) -> str | None:
    prefix = (images or {}).get(image)
    if prefix is not None and "/" not in name:
        candidate = prefix / "bin" / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
        return shutil.which(name, path=os.pathsep.join([str(prefix / "bin"), os.environ.get("PATH", "")]))
    base = image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
    if base.startswith("python") and (name in ("python", "python3") or name.startswith("python3.")):
        return sys.executable
    if "/" in name:
        return name if os.access(name, os.X_OK) and os.path.isfile(name) else None
    return shutil.which(name)


def _environment(job: LeafJob, body: dict[str, Any], pm: PathMap) -> tuple[dict[str, str], list[str]]:
    home = job.folder / "fs" / "root"
    home.mkdir(parents=True, exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8"}
    prefix = job.cluster.images.get(str(body.get("image") or ""))
    if prefix is not None:
        env["PATH"] = os.pathsep.join([str(prefix / "bin"), env["PATH"]])
        if (prefix / "pyvenv.cfg").exists():
            env["VIRTUAL_ENV"] = str(prefix)
    notes: list[str] = []
    for source in body.get("envFrom") or []:
        for kind, field_name in (("secret", "secretRef"), ("configmap", "configMapRef")):
            ref = source.get(field_name) if isinstance(source, dict) else None
            if not isinstance(ref, dict):
                continue
            values = job.cluster.keys(kind, str(ref.get("name")))
            if values is None:
                if not ref.get("optional"):
                    raise PathError(f"envFrom needs {'Secret' if kind == 'secret' else 'ConfigMap'} "
                                    f"{ref.get('name')!r}: give it with "
                                    f"{'--secret' if kind == 'secret' else '--config-map'} {ref.get('name')}=DIR")
                continue
            env.update({str(source.get("prefix") or "") + k: v for k, v in values.items()})
    for item in [*(body.get("env") or []), *_patched_env(job.template, body)]:
        if "value" in item:
            env[str(item["name"])] = pm.rewrite(str(item["value"]))
            continue
        source = item.get("valueFrom") if isinstance(item.get("valueFrom"), dict) else {}
        found = False
        for kind, field_name in (("secret", "secretKeyRef"), ("configmap", "configMapKeyRef")):
            ref = source.get(field_name)
            if not isinstance(ref, dict):
                continue
            found = True
            value = job.cluster.key(kind, str(ref.get("name")), str(ref.get("key") or ""))
            if value is not None:
                env[str(item["name"])] = value
            elif not ref.get("optional"):
                flag = "--secret" if kind == "secret" else "--config-map"
                raise PathError(f"env {item.get('name')!r} needs key {ref.get('key')!r} of "
                                f"{'Secret' if kind == 'secret' else 'ConfigMap'} {ref.get('name')!r}: give it with "
                                f"{flag} {ref.get('name')}=DIR")
        if not found:
            notes.append(f"env {item.get('name')!r} from {sorted(source or {'?': 0})[0]} not set")
    return env, notes


def _patched_env(template: dict[str, Any], body: dict[str, Any]) -> list[dict[str, Any]]:
    """The env a ``podSpecPatch`` adds to the main container (how a WorkflowTemplate's caller passes Secrets)."""
    patch: Any = template.get("podSpecPatch")
    if isinstance(patch, str):
        try:
            import yaml

            patch = yaml.safe_load(patch)
        except Exception:  # noqa: BLE001 - lint reports a malformed patch; here it adds nothing
            return []
    if not isinstance(patch, dict):
        return []
    out: list[dict[str, Any]] = []
    for container in patch.get("containers") or []:
        if isinstance(container, dict) and container.get("name") in ("main", body.get("name"), None):
            out += [e for e in container.get("env") or [] if isinstance(e, dict) and e.get("name")]
    return out


def _run_process(job: LeafJob, argv: list[str], body: dict[str, Any], pm: PathMap) -> Attempt:
    image = str(body.get("image") or "")
    if not argv:
        return Attempt("Failed", f"no command: the entrypoint of image {image!r} is not known on this host",
                       NOT_FOUND)
    program = _executable(argv[0], image, job.cluster.images)
    if program is None:
        return Attempt("Failed", f"command {argv[0]!r} not found on this host (image {image!r})", NOT_FOUND)
    argv = [program, *argv[1:]]
    try:
        env, notes = _environment(job, body, pm)
    except PathError as exc:
        return Attempt("Error", str(exc))
    cwd = job.folder / "fs"
    if body.get("workingDir"):
        try:
            cwd = confined(Path(pm.host(str(body["workingDir"]))), job.roots)
        except PathError as exc:
            return Attempt("Error", str(exc))
        cwd.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = job.folder / "stdout.log", job.folder / "stderr.log"
    (job.folder / "command.json").write_text(json.dumps({"argv": argv, "image": image, "cwd": str(cwd)}, indent=1))
    if not job.slots.acquire(timeout=max(_remaining(job), 0) if _remaining(job) != float("inf") else None):
        return Attempt("Failed", job.deadline_reason)
    try:
        with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
            try:
                proc = _start(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
            except OSError as exc:
                return Attempt("Failed", f"cannot start {argv[0]!r}: {exc.strerror or exc}", NOT_FOUND)
            timed_out = False
            try:
                remaining = _remaining(job)
                proc.wait(timeout=None if remaining == float("inf") else max(remaining, 0))
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill(proc)
            # Not in a ``finally``: when the run is stopped (an exception through this frame), the process must
            # stay known, so that stop_everything gives it its grace period and then kills its group.
            _done(proc)
    finally:
        job.slots.release()
    data = stdout_path.read_bytes()[-RESULT_LIMIT:].decode("utf-8", "replace")
    result = data[:-1] if data.endswith("\n") else data
    code = proc.returncode
    if timed_out:
        attempt = Attempt("Failed", job.deadline_reason, code, result)
    elif code == 0:
        attempt = Attempt("Succeeded", "; ".join(notes), 0, result)
    else:
        attempt = Attempt("Failed", f"Error (exit code {code})", code, result)
    return _outputs(job, pm, attempt)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """A step past its deadline: SIGTERM, as the kubelet sends, then SIGKILL after the grace period."""
    for sig, grace in ((signal.SIGTERM, GRACE_S), (signal.SIGKILL, 5.0)):
        _signal_group(proc, sig)
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _outputs(job: LeafJob, pm: PathMap | None, attempt: Attempt) -> Attempt:
    outputs = job.template.get("outputs") or {}
    missing: list[str] = []
    for param in outputs.get("parameters") or []:
        name = str(param.get("name"))
        if name in attempt.parameters:  # read by a resource handler (outputs.json)
            continue
        source = param.get("valueFrom") if isinstance(param.get("valueFrom"), dict) else {}
        value: str | None = None
        if source.get("path") and pm is not None:
            try:
                host = confined(Path(pm.host(str(source["path"]))), job.roots)
                text = host.read_text(encoding="utf-8", errors="replace")
                value = text[:-1] if text.endswith("\n") else text
            except (OSError, PathError):
                value = None
        if value is None and "default" in source:
            value = _text(source["default"])
        if value is None and isinstance(source.get("supplied"), dict):
            # Nobody resumes a local run with values: the input parameter of the same name (the default that
            # Argo's UI offers for intermediate parameters) stands in for the supplied value.
            value = job.inputs.get(name)
        if value is None and "value" in param:
            value = _text(param["value"])
        if value is None:
            missing.append(f"output parameter {name!r}" + (f" ({source['path']})" if source.get("path") else ""))
        else:
            attempt.parameters[name] = value
    for artifact in outputs.get("artifacts") or []:
        name = str(artifact.get("name"))
        if not artifact.get("path") or pm is None:
            continue
        try:
            host = Path(pm.host(str(artifact["path"])))
        except PathError as exc:
            missing.append(f"output artifact {name!r} ({exc})")
            continue
        if host.exists() or host.is_symlink():
            attempt.artifacts[name] = host
        elif not artifact.get("optional"):
            missing.append(f"output artifact {name!r} ({artifact['path']})")
    if missing and attempt.phase == "Succeeded":
        attempt.phase = "Error"
        attempt.message = "cannot read " + ", ".join(missing) + " and no default is declared"
    return attempt


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def run_container(job: LeafJob) -> Attempt:
    body = job.template["container"]
    try:
        pm = _prepare(job)
    except (PathError, OSError) as exc:
        return Attempt("Error", str(exc))
    argv = [pm.rewrite(str(a)) for a in (body.get("command") or []) + (body.get("args") or [])]
    if not body.get("command"):
        return _run_process(job, [], body, pm)
    return _run_process(job, argv, body, pm)


def run_script(job: LeafJob) -> Attempt:
    body = job.template["script"]
    try:
        pm = _prepare(job)
    except (PathError, OSError) as exc:
        return Attempt("Error", str(exc))
    if not body.get("command"):
        return Attempt("Failed", f"script template without command (image {body.get('image')!r})", NOT_FOUND)
    script = job.folder / "script"
    script.write_text(pm.rewrite(str(body.get("source") or "")), encoding="utf-8")
    script.chmod(0o755)  # `command: [sh, -c]` runs the file itself
    argv = [pm.rewrite(str(a)) for a in (body.get("command") or []) + (body.get("args") or [])] + [str(script)]
    return _run_process(job, argv, body, pm)


def run_suspend(job: LeafJob) -> Attempt:
    job.folder.mkdir(parents=True, exist_ok=True)
    duration = (job.template.get("suspend") or {}).get("duration")
    if duration is None:
        attempt = Attempt("Succeeded", "no duration: resumed at once (a cluster would wait for 'argo resume')")
    else:
        try:
            seconds = parse_duration(duration, "suspend duration")
        except ManifestError as exc:
            return Attempt("Error", str(exc))
        if job.fast_forward:
            attempt = Attempt("Succeeded", f"suspend of {seconds:g}s fast-forwarded")
        else:
            remaining = _remaining(job)
            time.sleep(max(0.0, min(seconds, remaining)))
            if seconds > remaining:
                return Attempt("Failed", job.deadline_reason)
            attempt = Attempt("Succeeded")
    return _outputs(job, None, attempt)


def run_external(job: LeafJob) -> Attempt:
    kind = "resource" if job.template.get("resource") is not None else "http"
    command = job.handlers.get(kind)
    if not command:
        return Attempt("Skipped", f"not run locally: {kind} template (give --handler {kind}=COMMAND to run one)")
    job.folder.mkdir(parents=True, exist_ok=True)
    argv = shlex.split(command)
    program = shutil.which(argv[0]) if argv else None
    if program is None:
        return Attempt("Error", f"--handler {kind}: command {command!r} not found")
    remaining = _remaining(job)
    try:
        # Its own process group, killed whole on a deadline: a handler's children do not outlive it (F10).
        proc = _start([program, *argv[1:]], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                      cwd=job.folder)
    except OSError as exc:
        return Attempt("Error", f"--handler {kind}: cannot start {command!r}: {exc.strerror or exc}")
    try:
        stdout, stderr = proc.communicate(json.dumps(job.template).encode(),
                                          timeout=None if remaining == float("inf") else max(remaining, 0))
    except subprocess.TimeoutExpired:
        _kill(proc)
        _done(proc)
        return Attempt("Failed", job.deadline_reason)
    _done(proc)  # only once it has ended: a stopped run's stop_everything must still see it
    (job.folder / "stdout.log").write_bytes(stdout)
    (job.folder / "stderr.log").write_bytes(stderr)
    out = stdout.decode("utf-8", "replace")
    result = out[:-1] if out.endswith("\n") else out
    phase = "Succeeded" if proc.returncode == 0 else "Failed"
    message = "" if proc.returncode == 0 else f"handler exit code {proc.returncode}"
    attempt = Attempt(phase, message, proc.returncode, result, _handler_parameters(job))
    return _outputs(job, None, attempt)


def _handler_parameters(job: LeafJob) -> dict[str, str]:
    """The output parameters a handler read for a resource template (Argo's executor reads ``jsonPath`` and
    ``jqFilter`` outputs from the resource, which only the handler has): ``outputs.json`` in its working folder,
    ``{"parameters": {name: value}}``; only declared outputs are taken."""
    declared = {str(p.get("name")) for p in (job.template.get("outputs") or {}).get("parameters") or []}
    try:
        data = json.loads(confined(job.folder / "outputs.json", job.roots).read_text(encoding="utf-8"))
    except (OSError, ValueError, PathError):
        return {}
    params = data.get("parameters") if isinstance(data, dict) else None
    if not isinstance(params, dict):
        return {}
    return {str(k): _text(v) for k, v in params.items() if str(k) in declared}


def run_unsupported(job: LeafJob) -> Attempt:
    kind = next(k for k in ("containerSet", "data", "plugin") if job.template.get(k) is not None)
    return Attempt("Error", f"{kind} templates are not supported by the local runner")


EXECUTORS: dict[str, Callable[[LeafJob], Attempt]] = {
    "container": run_container,
    "script": run_script,
    "suspend": run_suspend,
    "resource": run_external,
    "http": run_external,
    "containerSet": run_unsupported,
    "data": run_unsupported,
    "plugin": run_unsupported,
}
