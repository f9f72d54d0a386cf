"""Where a step's declared container paths live on this machine: the path mapping, and the artifact repository.

**Path mapping.** Steps run as ordinary host processes (no root, no mount namespace, no container), so every path
a template declares is mapped to a folder of the run, and the step's text is rewritten to use it:

- a volume mount (``volumeMounts[].mountPath``) → the volume's folder: ``<run>/volumes/<name>`` for workflow
  volumes and ``volumeClaimTemplates`` (shared by every step, as a PVC is), ``<attempt>/volumes/<name>`` for a
  template's own ``emptyDir``; a ``hostPath`` volume is the host folder itself;
- every other declared file (``outputs.parameters[].valueFrom.path``, ``outputs.artifacts[].path``,
  ``inputs.artifacts[].path``, ``workingDir``) → its parent folder is mapped into the attempt's private root
  ``<attempt>/fs`` (``/tmp/argo-migrate/return_value`` → ``<attempt>/fs/tmp/argo-migrate/return_value``), so
  parallel steps that write the same path never collide, exactly as separate pods would not.

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
from pathlib import Path
from typing import Any


class PathError(Exception):
    pass


@dataclass
class PathMap:
    mappings: list[tuple[str, str]] = field(default_factory=list)  # (declared prefix, host path), longest first
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
        """The host path of a declared container path (unmapped paths are the host's own)."""
        declared = _clean(declared)
        for prefix, host in self.mappings:
            if declared == prefix:
                return host
            if declared.startswith(prefix.rstrip("/") + "/"):
                return host + declared[len(prefix.rstrip("/")):]
        return declared

    def rewrite(self, text: str) -> str:
        if not self.mappings:
            return text
        if self._pattern is None:
            alternatives = "|".join(re.escape(d) for d, _ in self.mappings)
            self._pattern = re.compile(rf"(?<![\w.\-/])({alternatives})(?![\w.\-])")
        hosts = dict(self.mappings)
        return self._pattern.sub(lambda m: hosts[m.group(1)], text)


def _clean(path: str) -> str:
    cleaned = os.path.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("/") else cleaned


def volume_folder(volume: dict[str, Any], shared: Path, private: Path) -> Path:
    """The host folder of one pod volume: a hostPath is itself, a claim is shared, anything else is private."""
    name = str(volume.get("name"))
    if isinstance(volume.get("hostPath"), dict) and volume["hostPath"].get("path"):
        return Path(str(volume["hostPath"]["path"]))
    if isinstance(volume.get("persistentVolumeClaim"), dict):
        return shared / f"claim-{volume['persistentVolumeClaim'].get('claimName', name)}"
    return private / name


def build_map(template: dict[str, Any], root: Path, volumes: dict[str, Path]) -> PathMap:
    """The mapping of one attempt: ``root`` is its private file system, ``volumes`` maps volume names to folders."""
    pm = PathMap()
    body = template.get("container") or template.get("script") or {}
    for mount in body.get("volumeMounts") or []:
        name = str(mount.get("name"))
        if name not in volumes:
            raise PathError(f"volumeMount {name!r} names no volume of the workflow or template")
        folder = volumes[name] / str(mount["subPath"]) if mount.get("subPath") else volumes[name]
        folder.mkdir(parents=True, exist_ok=True)
        pm.add(str(mount.get("mountPath")), str(folder))
    declared: list[str] = []
    outputs = template.get("outputs") or {}
    inputs = template.get("inputs") or {}
    declared += [str(p["valueFrom"]["path"]) for p in outputs.get("parameters") or []
                 if isinstance(p.get("valueFrom"), dict) and p["valueFrom"].get("path")]
    declared += [str(a["path"]) for a in (outputs.get("artifacts") or []) + (inputs.get("artifacts") or [])
                 if a.get("path")]
    for path in declared:
        if not path.startswith("/") or pm.covered(path):
            continue
        parent = os.path.dirname(_clean(path))
        target = parent if parent != "/" else _clean(path)
        pm.add(target, str(root) + target)
        if parent != "/":
            Path(str(root) + parent).mkdir(parents=True, exist_ok=True)
    if body.get("workingDir") and str(body["workingDir"]).startswith("/") and not pm.covered(body["workingDir"]):
        wd = _clean(str(body["workingDir"]))
        pm.add(wd, str(root) + wd)
    return pm


class ArtifactRepository:
    def __init__(self, root: Path, workflow: str) -> None:
        self.root, self.workflow = root, workflow

    def key_path(self, key: str) -> Path:
        clean = os.path.normpath("/" + key.lstrip("/")).lstrip("/")
        return self.root / clean

    def save(self, source: Path, node_key: str, name: str, key: str | None = None) -> Path:
        target = self.key_path(key or f"{self.workflow}/{node_key or 'entrypoint'}/{name}")
        copy(source, target)
        return target


def copy(source: Path, target: Path) -> None:
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    elif target.exists() or target.is_symlink():
        target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True)
    else:
        shutil.copy2(source, target)
