"""Where a step's declared container paths live on this machine: the path mapping, and the artifact repository.

**Path mapping.** Steps run as ordinary host processes (no root, no mount namespace, no container), so every path
a template declares is mapped to a folder of the run, and the step's text is rewritten to use it:

- a volume mount (``volumeMounts[].mountPath``) → the volume's folder: ``<run>/volumes/<name>`` for workflow
  volumes and ``volumeClaimTemplates`` (shared by every step, as a PVC is), ``<attempt>/volumes/<name>`` for a
  template's own ``emptyDir``; a ``hostPath`` volume is refused unless ``--allow-host-path`` is given, and then it
  is the host folder itself;
- every other declared file (``outputs.parameters[].valueFrom.path``, ``outputs.artifacts[].path``,
  ``inputs.artifacts[].path``, ``workingDir``) → its parent folder is mapped into the attempt's private root
  ``<attempt>/fs`` (``/tmp/argo-migrate/return_value`` → ``<attempt>/fs/tmp/argo-migrate/return_value``), so
  parallel steps that write the same path never collide, exactly as separate pods would not.

**Confinement.** A declared path is a path inside the container: a relative one is taken relative to the
``workingDir`` (or ``/``), as the container runtime would, and one with a ``..`` part is refused (the node is an
Error), so no spelling reaches outside the attempt's root. The runner itself never follows a symbolic link out of
the run folder: output parameters are read only from files that resolve inside it, and artifacts are copied with
their links as links. What a step's *process* does is another matter: it runs with the caller's rights (see the
README's safety section).

Rewriting replaces each mapped prefix where it appears as a whole path (not inside a longer name) in the command,
args, script source, environment values and working directory. A path built at run time from pieces (``"/t" +
"mp"``) is not seen: that is the documented limit of this design, chosen because it needs no privileges and leaves
nothing behind on the host.

**Artifact repository.** ``<run>/artifacts`` is keyed like S3: an output artifact is stored at its ``s3.key`` when
it names one, else at ``<workflow name>/<node key>/<artifact name>``; files and folders are copied as they are (not
tar-gzipped). An input artifact with an ``s3.key`` reads the same key, so two steps can meet there.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any


class PathError(Exception):
    pass


def container_path(path: str, working_dir: str = "/") -> str:
    """``path`` as the absolute, normalised path a container would open; a ``..`` part is refused."""
    if ".." in PurePosixPath(path).parts:
        raise PathError(f"path {path!r} has a '..' part: refused, it could name a folder outside the run")
    base = working_dir if working_dir.startswith("/") else "/" + working_dir
    return _clean(path if path.startswith("/") else base.rstrip("/") + "/" + path)


def confined(path: Path, roots: tuple[Path, ...]) -> Path:
    """``path`` with its links resolved, or PathError when that leaves every one of ``roots``."""
    real = path.resolve()
    if not any(real == root or real.is_relative_to(root) for root in roots):
        raise PathError(f"{path} resolves to {real}, outside the run folder: refused")
    return real


@dataclass
class PathMap:
    mappings: list[tuple[str, str]] = field(default_factory=list)  # (declared prefix, host path), longest first
    working_dir: str = "/"
    _pattern: re.Pattern[str] | None = None

    def add(self, declared: str, host: str) -> None:
        declared = _clean(declared)
        if any(d == declared for d, _ in self.mappings):
            return
        self.mappings.append((declared, host))
        self.mappings.sort(key=lambda m: -len(m[0]))
        self._pattern = None

    def covered(self, declared: str) -> bool:
        declared = _clean(declared)
        return any(declared == d or declared.startswith(d.rstrip("/") + "/") for d, _ in self.mappings)

    def host(self, declared: str) -> str:
        """The host path of a declared container path; a path outside every mapping is refused, never the host's."""
        declared = container_path(declared, self.working_dir)
        for prefix, host in self.mappings:
            if declared == prefix:
                return host
            if declared.startswith(prefix.rstrip("/") + "/"):
                return host + declared[len(prefix.rstrip("/")):]
        raise PathError(f"path {declared!r} is not mapped into the run folder")

    def rewrite(self, text: str) -> str:
        # The root mapping ("/" → the attempt's root) is used for reading declared paths, never for rewriting: a
        # lone "/" in a script is a division or a `# /// script` line, not a path.
        prefixes = [d for d, _ in self.mappings if d != "/"]
        if not prefixes:
            return text
        if self._pattern is None:
            alternatives = "|".join(re.escape(d) for d in prefixes)
            self._pattern = re.compile(rf"(?<![\w.\-/])({alternatives})(?![\w.\-])")
        hosts = dict(self.mappings)
        return self._pattern.sub(lambda m: hosts[m.group(1)], text)


def _clean(path: str) -> str:
    cleaned = os.path.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("/") else cleaned


def volume_folder(volume: dict[str, Any], shared: Path, private: Path, allow_host_path: bool = False) -> Path:
    """The host folder of one pod volume: a hostPath is itself (only when allowed), a claim is shared, anything else
    is private."""
    name = str(volume.get("name"))
    if volume.get("hostPath") is not None:
        if not allow_host_path:
            raise PathError(f"volume {name!r} is a hostPath: refused (give --allow-host-path to let steps write "
                            "to the host)")
        host = volume["hostPath"].get("path") if isinstance(volume["hostPath"], dict) else None
        if not host or not str(host).startswith("/") or ".." in PurePosixPath(str(host)).parts:
            raise PathError(f"volume {name!r}: hostPath needs an absolute path without '..'")
        return Path(str(host))
    if isinstance(volume.get("persistentVolumeClaim"), dict):
        return shared / f"claim-{volume['persistentVolumeClaim'].get('claimName', name)}"
    return private / name


def build_map(template: dict[str, Any], root: Path, volumes: dict[str, Path]) -> PathMap:
    """The mapping of one attempt: ``root`` is its private file system, ``volumes`` maps volume names to folders."""
    body = template.get("container") or template.get("script") or {}
    working_dir = container_path(str(body["workingDir"])) if body.get("workingDir") else "/"
    pm = PathMap(working_dir=working_dir)
    for mount in body.get("volumeMounts") or []:
        name = str(mount.get("name"))
        if name not in volumes:
            raise PathError(f"volumeMount {name!r} names no volume of the workflow or template")
        folder = volumes[name] / str(mount["subPath"]) if mount.get("subPath") else volumes[name]
        folder.mkdir(parents=True, exist_ok=True)
        pm.add(container_path(str(mount.get("mountPath"))), str(folder))
    declared: list[str] = []
    outputs = template.get("outputs") or {}
    inputs = template.get("inputs") or {}
    declared += [str(p["valueFrom"]["path"]) for p in outputs.get("parameters") or []
                 if isinstance(p.get("valueFrom"), dict) and p["valueFrom"].get("path")]
    declared += [str(a["path"]) for a in (outputs.get("artifacts") or []) + (inputs.get("artifacts") or [])
                 if a.get("path")]
    for path in (container_path(p, working_dir) for p in declared):
        if pm.covered(path):
            continue
        parent = os.path.dirname(path)
        target = parent if parent != "/" else path
        pm.add(target, str(root) + target)
        if parent != "/":
            Path(str(root) + parent).mkdir(parents=True, exist_ok=True)
    if not pm.covered(working_dir):
        pm.add(working_dir, str(root) + working_dir if working_dir != "/" else str(root))
    return pm


class ArtifactRepository:
    def __init__(self, root: Path, workflow: str) -> None:
        self.root, self.workflow = root, workflow

    def key_path(self, key: str) -> Path:
        clean = os.path.normpath("/" + key.lstrip("/")).lstrip("/")
        return self.root / clean

    def save(self, source: Path, node_key: str, name: str, key: str | None = None) -> Path:
        target = self.key_path(key or f"{self.workflow}/{node_key or 'entrypoint'}/{name}")
        copy(source, target, (self.root,))
        return target


def copy(source: Path, target: Path, roots: tuple[Path, ...]) -> None:
    """Copy a file or folder to ``target``, which must lie inside ``roots``; links are copied as links, never
    followed, so a step cannot make the runner copy a host file by leaving a link behind."""
    if not source.exists() and not source.is_symlink():
        raise PathError(f"{source} does not exist")
    target.parent.mkdir(parents=True, exist_ok=True)
    confined(target.parent, roots)
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    elif target.exists() or target.is_symlink():
        target.unlink()
    if source.is_dir() and not source.is_symlink():
        shutil.copytree(source, target, symlinks=True)
    else:
        shutil.copy2(source, target, follow_symlinks=False)
