# constructs: task-bash-decorator, task-decorator, dag-decorator, airflow-sdk-imports, cron-schedule
"""@task.bash returning a constant command, and a TaskFlow task fed by a literal argument."""

from airflow.sdk import dag, task


@dag(schedule="0 6 * * 1-5", catchup=False)
def weekday_cleanup():
    @task.bash
    def prune_tmp():
        """Remove scratch files older than a week."""
        return "find /tmp -maxdepth 1 -name 'scratch-*' -mtime +7 -print"

    @task
    def summarise(limit):
        return {"limit": limit}

    prune_tmp() >> summarise(100)


weekday_cleanup()
