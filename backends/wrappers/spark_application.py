"""The spark-application wrapper: a SparkApplication of Kubeflow's spark-operator, created by an Argo
``resource`` template whose step lasts as long as the application and ends with its outcome.

Argo's executor creates the object (``kubectl create``), polls it and evaluates ``successCondition`` and
``failureCondition`` as Kubernetes label selectors whose keys are paths into the object (any failure
requirement that matches fails the step; all success requirements must match), then reads the output
parameters with ``kubectl get -o jsonpath``. The conditions name the operator's application states
(``api/v1beta2/sparkapplication_types.go``): ``COMPLETED`` and ``FAILED`` are the terminal ones; with
``restartPolicy: Never`` (set here: Argo owns retries) ``SUBMISSION_FAILED`` always ends in ``FAILED``, so it
fails the step at once. ``UNKNOWN`` is left out on purpose: the operator sets it while the driver pod's state
cannot be read (a node that stopped answering) and moves on to ``RUNNING`` or ``FAILING`` when it can, so
failing on it would kill applications that go on to complete.

The manifest is written with expression tags whose values are JSON-quoted (``toJson``), so a parameter's text
is always one YAML scalar and can never add fields to the object.
"""

from __future__ import annotations

from typing import Any

from backends.wrappers import WrapperOptions
from backends.wrappers.catalogue import Output, Param, WrapperDoc, base_template, inputs_of, template_name

ENGINE = "spark-application"
API_VERSION = "sparkoperator.k8s.io/v1beta2"
SUCCESS_CONDITION = "status.applicationState.state == COMPLETED"
FAILURE_CONDITION = "status.applicationState.state in (FAILED, SUBMISSION_FAILED)"
DEFAULT_IMAGE = "docker.io/library/spark:4.0.0"
DEFAULT_SPARK_VERSION = "4.0.0"

# Output parameter → the kubectl JSONPath Argo's executor reads it with once the success condition holds.
OUTPUTS = {
    "state": "{.status.applicationState.state}",
    "sparkApplicationId": "{.status.sparkApplicationId}",
    "driverPod": "{.status.driverInfo.podName}",
}

DOC = WrapperDoc(
    engine=ENGINE,
    summary="Run a Spark application with Kubeflow's spark-operator: a SparkApplication "
            "(sparkoperator.k8s.io/v1beta2) is created from the parameters, owned by the workflow; the step "
            "succeeds when the application is COMPLETED and fails when it is FAILED or SUBMISSION_FAILED. "
            "The cluster needs the spark-operator, and the workflow's service account must be allowed to "
            "create, get and delete sparkapplications.",
    parameters=(
        Param("name", "the SparkApplication's name; give each call in one workflow its own",
              "{{workflow.name}}"),
        Param("mainApplicationFile",
              "the application: a JAR, Python or R file (local:///… is inside the image)"),
        Param("mainClass", "the main class of a JVM application (empty for Python and R)", ""),
        Param("arguments", "the application's arguments, a JSON list of strings", "[]"),
        Param("type", "Python, Scala, Java or R; empty: Python for a .py file, R for .R, else Scala", ""),
        Param("image", "the image of the driver and executors", DEFAULT_IMAGE),
        Param("sparkVersion", "the Spark version of the image", DEFAULT_SPARK_VERSION),
        Param("driverCores", "CPU cores of the driver (an integer)", "1"),
        Param("driverMemory", "memory of the driver (Spark's notation: 512m, 2g)", "512m"),
        Param("executorCores", "CPU cores of each executor (an integer)", "1"),
        Param("executorMemory", "memory of each executor", "512m"),
        Param("executorInstances", "how many executors (an integer)", "1"),
        Param("serviceAccount", "the service account of the driver pod (it creates the executors)",
              "spark-operator-spark"),
    ),
    outputs=(
        Output("state", "parameter", "the application's final state (status.applicationState.state)"),
        Output("sparkApplicationId", "parameter", "Spark's application id (status.sparkApplicationId)"),
        Output("driverPod", "parameter",
               "the driver pod's name, where its log is (status.driverInfo.podName)"),
    ),
    stop="when the step ends other than Succeeded (the application failed, the workflow was stopped with "
         "`argo stop`, or its deadline passed) the step's exit hook deletes the SparkApplication (kubectl "
         "delete --ignore-not-found), which stops a running driver and its executors. `argo terminate` runs "
         "no hooks: the SparkApplication carries an ownerReference to the workflow (setOwnerReference), so "
         "it goes, with its pods, when the workflow is deleted.",
    local="the resource templates run under `run --local --handler resource=…` with "
          "tests/engines/spark_operator.py, which plays the API server and the operator's state machine "
          "(SUBMITTED → RUNNING → SUCCEEDING → COMPLETED, or FAILING → FAILED) around a real Spark driver "
          "(spark-submit of PySpark in local mode) and evaluates the template's own conditions and JSONPath "
          "outputs as Argo's executor does.",
)


def _p(name: str) -> str:
    return f"inputs.parameters.{name}"


def _json(name: str) -> str:
    return "{{=toJson(" + _p(name) + ")}}"


def _int(name: str) -> str:
    return "{{=asInt(" + _p(name) + ")}}"


def manifest() -> str:
    """The SparkApplication, as YAML whose every value is a JSON scalar filled in by Argo."""
    file = _p("mainApplicationFile")
    kind = ("{{=toJson(" + _p("type") + " != '' ? " + _p("type") + " : "
            + file + " endsWith '.py' ? 'Python' : " + file + " endsWith '.R' ? 'R' : 'Scala')}}")
    main_class = ("{{=" + _p("mainClass") + " == '' ? '' : 'mainClass: ' + toJson(" + _p("mainClass") + ")}}")
    return "\n".join([
        f"apiVersion: {API_VERSION}",
        "kind: SparkApplication",
        "metadata:",
        f"  name: {_json('name')}",
        "  labels:",
        "    app.kubernetes.io/managed-by: argo-migrate",
        f"    argo-migrate.io/wrapper: {ENGINE}",
        "spec:",
        f"  type: {kind}",
        "  mode: cluster",
        f"  sparkVersion: {_json('sparkVersion')}",
        f"  image: {_json('image')}",
        f"  mainApplicationFile: {_json('mainApplicationFile')}",
        f"  {main_class}",
        "  arguments: {{=toJson(sprig.fromJson(" + _p("arguments") + "))}}",
        "  restartPolicy:",
        # Argo's retryStrategy owns retries; the operator's would hide them from the workflow.
        "    type: Never",
        "  driver:",
        f"    cores: {_int('driverCores')}",
        f"    memory: {_json('driverMemory')}",
        f"    serviceAccount: {_json('serviceAccount')}",
        "  executor:",
        f"    cores: {_int('executorCores')}",
        f"    instances: {_int('executorInstances')}",
        f"    memory: {_json('executorMemory')}",
        "",
    ])


def _passed(names: list[str]) -> list[dict[str, str]]:
    return [{"name": n, "value": "{{inputs.parameters.%s}}" % n} for n in names]


def workflow_template(options: WrapperOptions) -> dict[str, Any]:
    names = [p.name for p in DOC.parameters]
    main = {
        "name": "main",
        "inputs": inputs_of(DOC),
        "steps": [[{
            "name": "spark",
            "template": "spark-application",
            "arguments": {"parameters": _passed(names)},
            "hooks": {"exit": {"template": "stop", "arguments": {"parameters": [
                {"name": "name", "value": "{{inputs.parameters.name}}"},
                {"name": "status", "value": "{{steps.spark.status}}"},
            ]}}},
        }]],
        "outputs": {"parameters": [
            {"name": o, "valueFrom": {"parameter": "{{steps.spark.outputs.parameters.%s}}" % o}}
            for o in OUTPUTS
        ]},
    }
    application = {
        "name": "spark-application",
        "inputs": {"parameters": [{"name": n} for n in names]},
        "resource": {
            "action": "create",
            "setOwnerReference": True,
            "successCondition": SUCCESS_CONDITION,
            "failureCondition": FAILURE_CONDITION,
            "manifest": manifest(),
        },
        "outputs": {"parameters": [{"name": o, "valueFrom": {"jsonPath": path}}
                                   for o, path in OUTPUTS.items()]},
    }
    stop = {
        "name": "stop",
        "inputs": {"parameters": [{"name": "name"}, {"name": "status"}]},
        "steps": [[{
            "name": "delete",
            "template": "delete",
            "arguments": {"parameters": _passed(["name"])},
            "when": "'{{inputs.parameters.status}}' != 'Succeeded'",
        }]],
    }
    delete = {
        "name": "delete",
        "inputs": {"parameters": [{"name": "name"}]},
        "resource": {
            "action": "delete",
            "manifest": "\n".join([f"apiVersion: {API_VERSION}", "kind: SparkApplication", "metadata:",
                                   f"  name: {_json('name')}", ""]),
        },
    }
    return base_template(template_name(ENGINE), DOC, [main, application, stop, delete])
