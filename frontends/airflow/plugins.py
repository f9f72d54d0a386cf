"""A user's own operators: registry rows added through the ``argo_migrate.operators`` entry point.

A package declares, in its ``pyproject.toml``::

    [project.entry-points."argo_migrate.operators"]
    warehouse = "my_company.argo_rows:ROWS"

where ``ROWS`` is a list of :class:`frontends.airflow.operators.OperatorRow` (the same shape as the built-in rows;
see the README's worked example). Rows are loaded once, lazily; a broken plugin never breaks a migration: its
rows are skipped and the failure is reported with AM122.
"""

from __future__ import annotations

import functools
from importlib.metadata import entry_points

from frontends.airflow.operators import OperatorRow

GROUP = "argo_migrate.operators"
PLUGIN_ERRORS: list[str] = []


@functools.cache
def plugin_rows() -> dict[str, OperatorRow]:
    rows: dict[str, OperatorRow] = {}
    for point in sorted(entry_points(group=GROUP), key=lambda p: p.name):
        try:
            loaded = point.load()
            for row in loaded:
                if not isinstance(row, OperatorRow):
                    raise TypeError(f"{row!r} is not an OperatorRow")
                for name in row.names:
                    rows.setdefault(name, row)
        except Exception as exc:  # a plugin's bug must not stop the batch
            PLUGIN_ERRORS.append(f"plugin {point.name!r} ({point.value}): {type(exc).__name__}: {exc}")
    return rows
