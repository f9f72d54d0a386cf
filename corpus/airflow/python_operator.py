# constructs: python-operator, python-callable-helpers, op-args, airflow2-python-imports, chain, task-group, preset-schedule
"""PythonOperator with op_args/op_kwargs, a helper function and a constant; chain() and a TaskGroup."""

import math
from datetime import datetime

from airflow.models.baseoperator import chain
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import PythonOperator
from airflow.utils.task_group import TaskGroup
from airflow import DAG

SCALE = 10


def _area(radius):
    return math.pi * radius**2


def compute(radius, label="circle"):
    area = _area(radius) * SCALE
    print(label, area)
    return round(area, 3)


with DAG(dag_id="geometry", schedule="@hourly", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    start = EmptyOperator(task_id="start")
    with TaskGroup("shapes") as shapes:
        small = PythonOperator(task_id="small", python_callable=compute, op_args=[1])
        large = PythonOperator(task_id="large", python_callable=compute, op_args=[5], op_kwargs={"label": "big"})
    end = EmptyOperator(task_id="end")

    chain(start, shapes, end)
