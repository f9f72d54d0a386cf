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


def python_write(name: str, expression: str) -> str:
    """Python (with ``os`` imported as ``_am_os``) that writes the text ``expression`` as output ``name``."""
    return "\n".join([
        f"_am_os.makedirs({OUTPUT_DIR!r}, exist_ok=True)",
        f"with open({output_path(name)!r}, 'w') as _am_out:",
        f"    _am_out.write({expression})",
    ])


def keeps_return(name: str = "return_value") -> tuple[str, str]:
    """The writer of a :class:`~migrator.ir.PythonCall` that keeps the function's return value (JSON) as output
    ``name``."""
    return name, python_write(name, "_am_json.dumps(_am_result, default=str)")
