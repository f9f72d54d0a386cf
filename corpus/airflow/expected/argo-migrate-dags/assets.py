# constructs: asset-decorator, asset-schedule
"""Airflow 3 assets: each @asset is a DAG of one task; a function without Airflow arguments runs natively."""

from airflow.sdk import Asset, asset


@asset(uri="s3://warehouse/daily_prices", schedule="@daily")
def daily_prices():
    return {"rows": 1000}


@asset(uri="s3://warehouse/enriched", schedule=Asset("s3://warehouse/daily_prices"))
def enriched(self, context, daily_prices):
    print(context["inlet_events"][daily_prices])
