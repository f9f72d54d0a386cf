# constructs: http-operator, simple-http-operator, http-sensor, ssh-operator, spark-submit, spark-kubernetes, email-operator
"""Work elsewhere: HTTP calls, a command over ssh on a cluster login node, Spark applications."""

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.providers.cncf.kubernetes.operators.spark_kubernetes import SparkKubernetesOperator
from airflow.providers.http.operators.http import HttpOperator, SimpleHttpOperator
from airflow.providers.http.sensors.http import HttpSensor
from airflow.providers.ssh.operators.ssh import SSHOperator
from airflow.sdk import DAG

with DAG(dag_id="remote_work", schedule=None):
    healthy = HttpSensor(task_id="api_healthy", http_conn_id="api", endpoint="health", poke_interval=30,
                         timeout=300)
    start = HttpOperator(task_id="start_job", http_conn_id="api", endpoint="jobs", method="POST",
                         data={"kind": "nightly"}, headers={"Content-Type": "application/json"})
    legacy = SimpleHttpOperator(task_id="legacy_ping", http_conn_id="api", endpoint="ping", method="GET")
    hpc = SSHOperator(task_id="submit_hpc", ssh_conn_id="hpc_login", command="sbatch --wait jobs/align.sh")
    spark = SparkSubmitOperator(task_id="aggregate", application="local:///opt/jobs/aggregate.py",
                                conf={"spark.sql.shuffle.partitions": "64"}, application_args=["--day", "today"],
                                executor_memory="2g", num_executors=4)
    pi = SparkKubernetesOperator(task_id="spark_pi", template_spec={"spec": {
        "type": "Scala", "mode": "cluster", "image": "apache/spark:3.5.1",
        "mainClass": "org.apache.spark.examples.SparkPi",
        "mainApplicationFile": "local:///opt/spark/examples/jars/spark-examples.jar",
        "sparkVersion": "3.5.1", "driver": {"cores": 1, "memory": "512m"},
        "executor": {"instances": 2, "cores": 1, "memory": "512m"}}})
    healthy >> start >> legacy >> hpc >> spark >> pi

from airflow.providers.smtp.operators.smtp import EmailOperator  # noqa: E402

with DAG(dag_id="notify_by_mail", schedule=None):
    EmailOperator(task_id="mail_team", to=["data@example.com", "ops@example.com"],
                  subject="Report for {{ ds }}", html_content="<p>The report of {{ ds }} is ready.</p>")
