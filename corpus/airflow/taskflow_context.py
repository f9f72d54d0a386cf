# constructs: context-shim, xcom-pull, xcom-push, jinja-dates, jinja-macros, jinja-variables, jinja-connections, jinja-dag-run-conf, multiple-outputs, task-mapping, expand-kwargs, bash-mapping, dagrun-conf
"""TaskFlow with the Airflow context, XComs, Jinja of every kind, and dynamic task mapping."""

import json

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, get_current_context, task


def report(ds, ti, **context):
    rows = ti.xcom_pull(task_ids="count_rows")
    ti.xcom_push(key="summary", value={"day": ds, "rows": rows, "run": context["run_id"]})


with DAG(dag_id="context_and_jinja", schedule="@daily", params={"limit": 100, "region": "eu"}):
    @task(multiple_outputs=True)
    def count_rows():
        ctx = get_current_context()
        return {"rows": 1200, "region": ctx["params"]["region"], "day": ctx["ds"]}

    counted = count_rows()
    summary = PythonOperator(task_id="report", python_callable=report)
    export = BashOperator(
        task_id="export",
        bash_command=(
            "echo rows={{ ti.xcom_pull(task_ids='count_rows') }} day={{ ds }} compact={{ ds_nodash }} "
            "week_ago={{ macros.ds_add(ds, -7) }} run={{ run_id }} limit={{ params.limit }} "
            "bucket={{ var.value.export_bucket }} who={{ dag_run.conf.get('requested_by', 'scheduler') }} "
            "key={{ task_instance_key_str }}"
        ),
        env={"DB_HOST": "{{ conn.warehouse.host }}", "DB_PASSWORD": "{{ conn.warehouse.password }}"},
    )
    counted >> summary >> export

    @task
    def shard(n: int, region: str):
        return {"shard": n, "region": region}

    @task
    def merge(parts: list):
        return json.dumps(sorted(p["shard"] for p in parts))

    shards = shard.partial(region="eu").expand(n=[1, 2, 3])
    merge(shards)

    @task
    def list_files():
        return ["a.csv", "b.csv"]

    @task
    def load(name: str):
        print("loading", name)

    load.expand(name=list_files())

    @task
    def copy(src: str, dst: str):
        print(src, "->", dst)

    copy.expand_kwargs([{"src": "a", "dst": "b"}, {"src": "c", "dst": "d"}])
    BashOperator.partial(task_id="echo_each").expand(bash_command=["echo 1", "echo 2"])
    export >> shards
