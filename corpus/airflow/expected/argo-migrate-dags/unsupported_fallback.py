# constructs: unknown-operator-wrapped, sensor-wrapped, untranslated-jinja-wrapped
"""Constructs without a native translation yet: each is wrapped (runs with Airflow in a pod) and diagnosed."""

from datetime import timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.sensors.time_delta import TimeDeltaSensor
from airflow.sdk import DAG

from my_company.operators import WarehouseLoadOperator

with DAG(dag_id="partly_native", schedule=None) as dag:
    wait = TimeDeltaSensor(task_id="wait_a_bit", delta=timedelta(minutes=5))
    stamp = BashOperator(task_id="stamp", bash_command="echo run for {{ ds }}")
    load = WarehouseLoadOperator(task_id="load_warehouse", table="events")
    wait >> stamp >> load
