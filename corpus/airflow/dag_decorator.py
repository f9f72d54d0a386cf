# constructs: dag-decorator, task-decorator, taskflow-data, airflow-sdk-imports, no-schedule
"""TaskFlow: a @dag function whose @task functions pass values to each other."""

import json

from airflow.sdk import dag, task


@dag(dag_id="taskflow_etl", schedule=None, tags=["example"])
def taskflow_etl():
    @task
    def extract():
        return json.loads('{"1001": 301.27, "1002": 433.21, "1003": 502.22}')

    @task(retries=1)
    def transform(orders: dict):
        return {"total": sum(orders.values())}

    @task
    def load(summary: dict, unit="EUR"):
        print(f"Total order value is: {summary['total']:.2f} {unit}")

    load(transform(extract()), unit="USD")


taskflow_etl()
