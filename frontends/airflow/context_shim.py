"""Airflow's task context for a callable that runs without Airflow: rebuilt from the run, in the script itself.

A callable that takes ``ds``, ``ti`` or ``**context``, or calls ``get_current_context()``, gets a dictionary with
the keys below, filled from environment variables the manifest sets (the logical date, the run id, the DAG params,
``dag_run.conf``, upstream outputs). ``ti.xcom_pull`` reads the outputs of upstream tasks that were wired
statically; ``ti.xcom_push`` writes an output of this task. Anything else in the context is not emulated: a callable
that reads it is wrapped instead (see ``UNSUPPORTED``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from frontends.airflow.jinja import DAG_RUN_CONF
from migrator.ir import OutputRef, ParamRef, RunMeta, Text
from migrator.runtime import OUTPUT_DIR

SUPPORTED = frozenset({
    "ds", "ds_nodash", "ts", "ts_nodash", "ts_nodash_with_tz", "logical_date", "execution_date",
    "data_interval_start", "data_interval_end", "run_id", "dag", "task", "dag_run", "params", "ti",
    "task_instance", "task_instance_key_str", "map_index_template", "test_mode",
})
UNSUPPORTED = frozenset({
    "outlet_events", "inlet_events", "triggering_asset_events", "triggering_dataset_events", "outlets", "inlets",
    "conf", "macros", "var", "conn", "prev_ds", "next_ds", "prev_data_interval_start_success",
    "prev_data_interval_end_success", "prev_start_date_success", "prev_end_date_success", "templates_dict",
    "expanded_ti_count", "prev_ds_nodash", "next_ds_nodash", "yesterday_ds", "tomorrow_ds",
})
DAG_RUN_CONF_PARAM = DAG_RUN_CONF


@dataclass
class Shim:
    code: str
    env: list[tuple[str, Text]] = field(default_factory=list)
    needs_conf: bool = False


def build(dag_id: str, task_id: str, params: dict[str, bool], pulls: list[tuple[str, str]],
          reads_params: bool, reads_conf: bool) -> Shim:
    """``params``: DAG param name → whether its value is JSON (not a plain string); ``pulls``: (task, key)."""
    env: list[tuple[str, Text]] = [("AM_LOGICAL_DATE", (RunMeta("logical_date"),)), ("AM_RUN_ID", (RunMeta("run_id"),))]
    xcom_vars = {}
    for i, (producer, key) in enumerate(pulls):
        var = f"AM_XCOM_{i}"
        xcom_vars[(producer, key)] = var
        env.append((var, (OutputRef(producer, key),)))
    param_lines = []
    if reads_params:
        for i, (name, is_json) in enumerate(sorted(params.items())):
            env.append((f"AM_PARAM_{i}", (ParamRef(name),)))
            param_lines.append(f"    {name!r}: _am_param({f'AM_PARAM_{i}'!r}, {is_json!r}),")
    if reads_conf:
        env.append(("AM_DAG_RUN_CONF", (ParamRef(DAG_RUN_CONF_PARAM),)))
    code = _TEMPLATE.format(
        dag_id=repr(dag_id), task_id=repr(task_id), xcom=repr(dict(sorted(xcom_vars.items()))),
        params="\n".join(param_lines), output_dir=OUTPUT_DIR,
    )
    return Shim(code, env, reads_conf)


_TEMPLATE = '''\
# --- argo-migrate: Airflow's task context, rebuilt from the Argo run ---
import datetime as _am_datetime
import json as _am_cjson
import os as _am_cos
import types as _am_types

_am_logical = _am_datetime.datetime.fromisoformat(_am_cos.environ["AM_LOGICAL_DATE"].replace("Z", "+00:00"))
_AM_XCOM = {xcom}


def _am_param(var, is_json):
    raw = _am_cos.environ.get(var, "")
    return _am_cjson.loads(raw) if is_json and raw != "" else raw


class _AmTaskInstance:
    dag_id = {dag_id}
    task_id = {task_id}
    run_id = _am_cos.environ.get("AM_RUN_ID", "")
    map_index = -1

    def xcom_pull(self, task_ids=None, key="return_value", **_ignored):
        if isinstance(task_ids, (list, tuple)):
            return [self.xcom_pull(t, key) for t in task_ids]
        var = _AM_XCOM.get((task_ids, key))
        if var is None:
            raise RuntimeError(f"argo-migrate: xcom_pull({{task_ids!r}}, key={{key!r}}) has no Argo output")
        raw = _am_cos.environ.get(var, "")
        return None if raw == "" else _am_cjson.loads(raw)

    def xcom_push(self, key, value, **_ignored):
        folder = "{output_dir}"
        _am_cos.makedirs(folder, exist_ok=True)
        with open(_am_cos.path.join(folder, key), "w") as out:
            _am_cjson.dump(value, out, default=str)


_am_ti = _AmTaskInstance()
_AIRFLOW_CONTEXT = {{
    "ds": _am_logical.strftime("%Y-%m-%d"),
    "ds_nodash": _am_logical.strftime("%Y%m%d"),
    "ts": _am_logical.isoformat(),
    "ts_nodash": _am_logical.strftime("%Y%m%dT%H%M%S"),
    "ts_nodash_with_tz": _am_logical.strftime("%Y%m%dT%H%M%S%z"),
    "logical_date": _am_logical,
    "execution_date": _am_logical,
    "data_interval_start": _am_logical,
    "data_interval_end": _am_logical,
    "run_id": _am_ti.run_id,
    "dag": _am_types.SimpleNamespace(dag_id={dag_id}),
    "task": _am_types.SimpleNamespace(task_id={task_id}),
    "dag_run": _am_types.SimpleNamespace(
        dag_id={dag_id}, run_id=_am_ti.run_id, logical_date=_am_logical,
        conf=_am_cjson.loads(_am_cos.environ.get("AM_DAG_RUN_CONF") or "{{}}"),
    ),
    "params": {{
{params}
    }},
    "ti": _am_ti,
    "task_instance": _am_ti,
    "task_instance_key_str": f"{{_am_ti.dag_id}}__{{_am_ti.task_id}}__{{_am_logical.strftime('%Y%m%d')}}",
    "map_index_template": None,
    "test_mode": False,
}}


def get_current_context():
    return _AIRFLOW_CONTEXT
'''
