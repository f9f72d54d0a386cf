"""The in-container contract that frontends (which write the programs tasks run) and backends (which declare what
those programs produce) share: where a task writes its outputs. One module, so that neither side spells a path or
a variable the other must match.

A task writes output ``NAME`` as the file ``OUTPUT_DIR/NAME`` (JSON for values, ``true``/``false`` for booleans);
a backend declares it from there.
"""

from __future__ import annotations

OUTPUT_DIR = "/tmp/argo-migrate"


def output_path(name: str) -> str:
    return f"{OUTPUT_DIR}/{name}"


def shell_write(name: str, value: str) -> str:
    """A shell command that writes ``value`` (a word) as output ``name``."""
    return f"mkdir -p {OUTPUT_DIR}; echo {value} > {output_path(name)}"
