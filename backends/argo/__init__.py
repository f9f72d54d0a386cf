"""The Argo Workflows backend: IR → Hera objects → YAML.

The names below are loaded on first use: importing a sub-package (``backends.argo.lint`` needs only Hera's models,
not all of Hera and the IR) must not pay for the whole backend.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backends.argo.emit import EmitOptions, Kind, Manifest, TaskMapping, emit

__all__ = ["EmitOptions", "Kind", "Manifest", "TaskMapping", "emit"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("backends.argo.emit"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
