"""The Argo Workflows backend: IR → Hera objects → YAML."""

from backends.argo.emit import EmitOptions, Kind, Manifest, TaskMapping, emit

__all__ = ["EmitOptions", "Kind", "Manifest", "TaskMapping", "emit"]
