"""A ``resource`` handler for ``argo-migrate run --local``: the Kubernetes side of a SparkApplication, on this
machine.

``run --local --handler "resource=python tests/engines/spark_operator.py --store DIR --spark-submit PATH"``
gives this program each resource template as JSON on stdin. It plays three parts, each from its own source:

- **the API server** (a folder, ``--store``, one JSON file per object, ``events.jsonl`` for what happened):
  ``create`` validates the object as the CRD would (required fields, enums, integer minimums), refuses a name
  in use (AlreadyExists), adds the workflow's ownerReference when ``setOwnerReference`` is set; ``delete``
  removes the object (``--ignore-not-found``, as Argo runs it) and stops its driver.
- **the spark-operator** (``internal/controller/sparkapplication/controller.go``): the state machine ``""`` →
  ``SUBMITTED`` (``sparkApplicationId``, ``submissionID``, ``driverInfo.podName`` set) → ``RUNNING`` while the
  driver lives → ``SUCCEEDING`` → ``COMPLETED``, or ``FAILING`` → ``FAILED`` with the driver's exit code in
  ``errorMessage``. The driver is a real Spark driver: ``spark-submit`` in local mode with the arguments the
  operator derives from the spec (``--class``, driver and executor cores and memory, ``arguments``); a
  ``local://`` file is the host path after the scheme.
- **Argo's executor** (``workflow/executor/resource.go``): it polls the object and evaluates the template's
  own ``failureCondition`` and ``successCondition`` as Kubernetes label selectors over gjson paths (any
  failure requirement that matches fails the step, every success requirement must match), then reads the
  output parameters with kubectl's JSONPath (missing keys are empty, as ``kubectl get -o jsonpath`` prints
  them) and writes them to ``outputs.json`` in its working folder, ``{"parameters": {name: value}}``.

One deliberate difference: Argo polls a terminal object forever when neither condition matches (until the
step's deadline); here that ends at once with exit status 3 and the reason, so a wrong condition fails a test
quickly. Exit status: 0 success condition met, 1 failure condition met or the API server refused the request,
2 a template this program does not support, 3 neither condition matched a terminal application, 143 stopped by
SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

API_VERSION = "sparkoperator.k8s.io/v1beta2"
TERMINAL = ("COMPLETED", "FAILED")
TYPES = ("Java", "Scala", "Python", "R")


class Refused(Exception):
    """What the API server answers with an error (kubectl exits 1 with the message)."""


class Unsupported(Exception):
    pass


# ----------------------------------------------------------------------------------------- label selectors


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "==", "!=", "in", "notin", "exists", "!", ">", "<"
    values: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.op == "exists":
            return self.key
        if self.op == "!":
            return "!" + self.key
        if self.op in ("in", "notin"):
            return f"{self.key} {self.op} ({','.join(sorted(self.values))})"
        return f"{self.key}{self.op}{self.values[0]}"

    def matches(self, obj: Any) -> bool:
        """``Requirement.Matches`` of k8s.io/apimachinery/pkg/labels over a gjson view of ``obj``."""
        found, value = gjson(obj, self.key)
        if self.op == "exists":
            return found
        if self.op == "!":
            return not found
        if self.op in ("=", "==", "in"):
            return found and value in self.values
        if self.op in ("!=", "notin"):
            return not found or value not in self.values
        if not found:
            return False
        try:
            have, want = int(value), int(self.values[0])
        except ValueError:
            return False
        return have > want if self.op == ">" else have < want


_QUALIFIED = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_TOKEN = re.compile(r"\s*(!=|==|=|!|\(|\)|,|>|<|[^\s!=(),<>]+)")


def _check_key(key: str) -> str:
    prefix, _, name = key.rpartition("/")
    if len(name) > 63 or not _QUALIFIED.match(name) or (prefix and (len(prefix) > 253 or
                                                                    not _DNS_SUBDOMAIN.match(prefix))):
        raise ValueError(f"invalid label key {key!r}")
    return key


def _check_value(value: str) -> str:
    if len(value) > 63 or not _VALUE.match(value):
        raise ValueError(f"invalid label value {value!r}")
    return value


def parse_selector(text: str) -> list[Requirement]:
    """``labels.Parse``: comma-separated requirements, each ``key``, ``!key``, ``key op value`` (``=``,
    ``==``, ``!=``, ``>``, ``<``) or ``key in|notin (v1, v2)``; keys and values validated as Kubernetes label
    keys and
    values. A ValueError carries the reason, as Argo reports a condition it cannot parse."""
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"cannot read {text[pos:]!r}")
        tokens.append(m.group(1))
        pos = m.end()
    out: list[Requirement] = []
    i = 0

    def take() -> str:
        nonlocal i
        if i >= len(tokens):
            raise ValueError(f"unexpected end of {text!r}")
        i += 1
        return tokens[i - 1]

    while i < len(tokens):
        first = take()
        if first == "!":
            out.append(Requirement(_check_key(take()), "!"))
        else:
            key = _check_key(first)
            op = tokens[i] if i < len(tokens) else ","
            if op == ",":
                out.append(Requirement(key, "exists"))
            elif op in ("=", "==", "!=", ">", "<"):
                i += 1
                value = tokens[i] if i < len(tokens) and tokens[i] not in (",", ")", "(") else ""
                if value:
                    i += 1
                if op in (">", "<"):
                    int(value)  # gt and lt take one integer
                out.append(Requirement(key, op, (_check_value(value),)))
            elif op in ("in", "notin"):
                i += 1
                if take() != "(":
                    raise ValueError(f"expected '(' after {op} in {text!r}")
                values: list[str] = []
                while True:
                    token = take()
                    if token == ")":
                        break
                    if token == ",":
                        continue
                    values.append(_check_value(token))
                if not values:
                    raise ValueError(f"{op} needs at least one value in {text!r}")
                out.append(Requirement(key, op, tuple(values)))
            else:
                raise ValueError(f"unexpected {op!r} after {key!r} in {text!r}")
        if i < len(tokens):
            if take() != ",":
                raise ValueError(f"expected ',' in {text!r}")
    return out


def gjson(obj: Any, path: str) -> tuple[bool, str]:
    """(exists, ``Result.String()``) of a gjson path made of the characters a label key may hold:
    dot-separated
    names, a number indexing an array."""
    node = obj
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, ""
    if node is None:
        return True, ""
    if isinstance(node, str):
        return True, node
    return True, json.dumps(node, separators=(",", ":")) if not isinstance(node, bool) else ("true" if node
                                                                                              else "false")


def conditions_met(obj: Any, success: list[Requirement], failure: list[Requirement]) -> tuple[str, str]:
    """``matchConditions``: ("failed", message) when a failure requirement matches, ("succeeded", …) when
    every
    success requirement does, else ("waiting", …)."""
    for req in failure:
        if req.matches(obj):
            return "failed", f"failure condition '{req}' evaluated true"
    matched = sum(1 for req in success if req.matches(obj))
    if matched >= len(success):
        return "succeeded", f"{matched}/{len(success)} success conditions matched"
    return "waiting", "Neither success condition nor the failure condition has been matched"


# ------------------------------------------------------------------------------------------------ JSONPath

_JP_STEP = re.compile(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


def jsonpath(obj: Any, template: str) -> str:
    """kubectl's ``-o jsonpath=TEMPLATE`` for field and index steps (``{.status.a}``, ``{.items[0].b}``); text
    outside braces is printed as is; a missing key prints nothing (``--allow-missing-template-keys``)."""
    out: list[str] = []
    pos = 0
    for m in re.finditer(r"\{([^{}]*)\}", template):
        out.append(template[pos:m.start()])
        pos = m.end()
        expr = m.group(1).strip()
        expr = expr[1:] if expr.startswith("$") else expr
        node: Any = obj
        at = 0
        while at < len(expr) and node is not None:
            step = _JP_STEP.match(expr, at)
            if step is None:
                raise Unsupported(f"JSONPath {m.group(0)!r}: only field and index steps are supported here")
            at = step.end()
            key = step.group(1) or step.group(3) or step.group(4)
            if step.group(2) is not None:
                index = int(step.group(2))
                node = node[index] if isinstance(node, list) and index < len(node) else None
            else:
                node = node.get(key) if isinstance(node, dict) else None
        if node is not None:
            out.append(node if isinstance(node, str) else json.dumps(node))
    out.append(template[pos:])
    return "".join(out)


# -------------------------------------------------------------------------------------------- API server


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Store:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def get(self, name: str) -> dict[str, Any] | None:
        try:
            return dict(json.loads(self.path(name).read_text()))
        except FileNotFoundError:
            return None

    def put(self, obj: dict[str, Any]) -> None:
        path = self.path(obj["metadata"]["name"])
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(obj, indent=1))
        os.replace(tmp, path)

    def event(self, name: str, what: str, **details: Any) -> None:
        with open(self.folder / "events.jsonl", "a") as handle:
            handle.write(json.dumps({"name": name, "event": what, **details}) + "\n")


def _positive_int(spec: dict[str, Any], path: str, errors: list[str]) -> None:
    node: Any = spec
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if node is not None and (not isinstance(node, int) or isinstance(node, bool) or node < 1):
        errors.append(f"spec.{path}: Invalid value: {node!r}: must be an integer >= 1")


def validate(obj: Any) -> list[str]:
    """What the SparkApplication CRD's schema refuses (the fields this wrapper and the operator depend on)."""
    if not isinstance(obj, dict):
        return ["the manifest is not an object"]
    errors: list[str] = []
    if obj.get("apiVersion") != API_VERSION or obj.get("kind") != "SparkApplication":
        errors.append(f"apiVersion/kind: expected {API_VERSION} SparkApplication, got "
                      f"{obj.get('apiVersion')} {obj.get('kind')}")
    meta: dict[str, Any] = obj["metadata"] if isinstance(obj.get("metadata"), dict) else {}
    name = meta.get("name") or meta.get("generateName")
    if not isinstance(name, str) or not _DNS_SUBDOMAIN.match(name.rstrip("-")) or len(name) > 253:
        errors.append(f"metadata.name: Invalid value: {name!r}: a lowercase RFC 1123 subdomain is required")
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [*errors, "spec: Required value"]
    if spec.get("type") not in TYPES:
        errors.append(f"spec.type: Unsupported value: {spec.get('type')!r}: supported values: "
                      f"{', '.join(TYPES)}")
    for field in ("sparkVersion", "mainApplicationFile"):
        if not isinstance(spec.get(field), str) or not spec.get(field):
            errors.append(f"spec.{field}: Required value")
    if spec.get("mode", "cluster") not in ("cluster", "client"):
        errors.append(f"spec.mode: Unsupported value: {spec.get('mode')!r}")
    arguments = spec.get("arguments", [])
    if not isinstance(arguments, list) or not all(isinstance(a, str) for a in arguments):
        errors.append(f"spec.arguments: Invalid value: {arguments!r}: must be a list of strings")
    policy = (spec.get("restartPolicy") or {}).get("type", "Never")
    if policy not in ("Never", "Always", "OnFailure"):
        errors.append(f"spec.restartPolicy.type: Unsupported value: {policy!r}")
    for part in ("driver", "executor"):
        if not isinstance(spec.get(part), dict):
            errors.append(f"spec.{part}: Required value")
    for path in ("driver.cores", "executor.cores", "executor.instances"):
        _positive_int(spec, path, errors)
    return errors


# --------------------------------------------------------------------------------------------- the driver


def submit_arguments(obj: dict[str, Any], spark_submit: str) -> list[str]:
    """The spark-submit command the operator builds from the spec (submission.go), with a local master: as
    many
    threads as the executors would have cores."""
    spec = obj["spec"]
    driver, executor = spec.get("driver") or {}, spec.get("executor") or {}
    threads = int(executor.get("instances") or 1) * int(executor.get("cores") or 1)
    argv = [spark_submit, "--master", f"local[{threads}]", "--deploy-mode", "client",
            "--name", obj["metadata"]["name"],
            # A driver of a few seconds on a small machine: the JVM's quick compiler and serial collector
            # start faster, and nothing here runs long enough to need the optimising compiler.
            "--driver-java-options", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"]
    if spec.get("mainClass"):
        argv += ["--class", str(spec["mainClass"])]
    confs = {
        "spark.app.id": obj["status"]["sparkApplicationId"],
        "spark.driver.cores": driver.get("cores"),
        "spark.driver.memory": driver.get("memory"),
        "spark.executor.cores": executor.get("cores"),
        "spark.executor.instances": executor.get("instances"),
        "spark.executor.memory": executor.get("memory"),
        "spark.kubernetes.authenticate.driver.serviceAccountName": driver.get("serviceAccount"),
        "spark.kubernetes.container.image": spec.get("image"),
        # This machine has no cluster: the driver binds to the loopback and serves no UI.
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        **(spec.get("sparkConf") or {}),
    }
    for key, value in confs.items():
        if value is not None:
            argv += ["--conf", f"{key}={value}"]
    main = str(spec["mainApplicationFile"])
    argv.append(main[len("local://"):] if main.startswith("local://") else main)
    return argv + [str(a) for a in spec.get("arguments") or []]


class Operator:
    def __init__(self, store: Store, spark_submit: str, interval: float) -> None:
        self.store, self.spark_submit, self.interval = store, spark_submit, interval
        self.driver: subprocess.Popen[bytes] | None = None

    def set_state(self, obj: dict[str, Any], state: str, message: str = "") -> None:
        obj["status"]["applicationState"] = {"state": state, **({"errorMessage": message} if message else {})}
        if state in TERMINAL:
            obj["status"]["terminationTime"] = _now()
        self.store.put(obj)
        self.store.event(obj["metadata"]["name"], "state", state=state)

    def submit(self, obj: dict[str, Any]) -> None:
        name = obj["metadata"]["name"]
        obj["status"] = {"sparkApplicationId": "spark-" + uuid.uuid4().hex, "submissionID": str(uuid.uuid4()),
                         "lastSubmissionAttemptTime": _now(), "submissionAttempts": 1, "executionAttempts": 1,
                         "driverInfo": {"podName": f"{name}-driver"}, "applicationState": {"state": ""}}
        argv = submit_arguments(obj, self.spark_submit)
        self.store.event(name, "submit", argv=argv)
        python = str(Path(self.spark_submit).parent / "python")
        env = {**os.environ, "PYSPARK_PYTHON": python, "PYSPARK_DRIVER_PYTHON": python,
               "SPARK_LOCAL_IP": "127.0.0.1"}
        try:
            # Same process group as this handler: the runner's SIGTERM to the step's group reaches the driver.
            self.driver = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=sys.stderr,
                                           stderr=sys.stderr, env=env)
        except OSError as exc:
            self.set_state(obj, "SUBMISSION_FAILED", f"failed to run spark-submit: {exc}")
            return
        self.store.event(name, "driver", pid=self.driver.pid)
        self.set_state(obj, "SUBMITTED")

    def reconcile(self, obj: dict[str, Any]) -> None:
        state = obj["status"]["applicationState"]["state"]
        code = self.driver.poll() if self.driver is not None else None
        if state == "SUBMITTED":
            self.set_state(obj, "RUNNING")
        elif state == "RUNNING" and code is not None:
            if code == 0:
                self.set_state(obj, "SUCCEEDING")
            else:
                self.set_state(obj, "FAILING",
                               f"driver container failed with ExitCode: {code}, Reason: Error")
        elif state == "SUCCEEDING":
            self.set_state(obj, "COMPLETED")
        elif state in ("FAILING", "SUBMISSION_FAILED"):
            # restartPolicy Never: no resubmission, the failure is final (reconcileFailingSparkApplication).
            self.set_state(obj, "FAILED", obj["status"]["applicationState"].get("errorMessage", ""))

    def stop_driver(self) -> None:
        if self.driver is not None and self.driver.poll() is None:
            self.driver.terminate()
            try:
                self.driver.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.driver.kill()


# ------------------------------------------------------------------------------------------ the executor


def _conditions(resource: dict[str, Any]) -> tuple[list[Requirement], list[Requirement]]:
    try:
        success = parse_selector(str(resource.get("successCondition") or ""))
        failure = parse_selector(str(resource.get("failureCondition") or ""))
    except ValueError as exc:
        raise Unsupported(f"condition failed to parse: {exc}") from None
    return success, failure


def save_outputs(template: dict[str, Any], obj: dict[str, Any], folder: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for param in (template.get("outputs") or {}).get("parameters") or []:
        source = param.get("valueFrom") or {}
        if source.get("jqFilter"):
            raise Unsupported(f"output {param.get('name')!r}: jqFilter is not supported here")
        if source.get("jsonPath"):
            values[str(param["name"])] = jsonpath(obj, str(source["jsonPath"]))
    (folder / "outputs.json").write_text(json.dumps({"parameters": values}, indent=1))
    return values


def create(template: dict[str, Any], store: Store, operator: Operator) -> int:
    resource = template["resource"]
    success, failure = _conditions(resource)
    obj = yaml.safe_load(str(resource.get("manifest") or ""))
    errors = validate(obj)
    if errors:
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        name = meta.get("name") if isinstance(meta, dict) else None
        raise Refused(f'The SparkApplication "{name}" is invalid: ' + "; ".join(errors))
    meta = obj["metadata"]
    if not meta.get("name"):
        meta["name"] = meta.pop("generateName") + uuid.uuid4().hex[:5]
    name = meta["name"]
    if store.get(name) is not None:
        raise Refused(f'sparkapplications.sparkoperator.k8s.io "{name}" already exists')
    meta.setdefault("namespace", "default")
    meta["uid"] = str(uuid.uuid4())
    meta["creationTimestamp"] = _now()
    if resource.get("setOwnerReference"):
        # Argo names the Workflow and its uid here; the handler is not told them, only that it must.
        meta["ownerReferences"] = [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                                    "name": "(the workflow)", "uid": "(the workflow's uid)",
                                    "blockOwnerDeletion": True}]
    obj.pop("status", None)
    store.put(obj)
    store.event(name, "created", ownerReference=bool(resource.get("setOwnerReference")))
    print(f"sparkapplication.sparkoperator.k8s.io/{name} created", file=sys.stderr)
    operator.submit(obj)
    settled = 0
    while True:
        current = store.get(name)
        if current is None:
            print(f"The resource has been deleted while its status was still being checked: {name}",
                  file=sys.stderr)
            return 1
        verdict, message = conditions_met(current, success, failure)
        print(f"{current['status']['applicationState']['state'] or '(new)'}: {message}", file=sys.stderr)
        if verdict == "failed":
            print(message)
            return 1
        if verdict == "succeeded":
            save_outputs(template, current, Path.cwd())
            return 0
        state = current["status"]["applicationState"]["state"]
        if state in TERMINAL:
            settled += 1
            if settled > 1:
                print(f"neither successCondition {resource.get('successCondition')!r} nor failureCondition "
                      f"{resource.get('failureCondition')!r} matches the terminal state {state}: Argo would "
                      "wait until the step's deadline")
                return 3
        operator.reconcile(current)
        time.sleep(operator.interval)


def delete(template: dict[str, Any], store: Store) -> int:
    obj = yaml.safe_load(str(template["resource"].get("manifest") or ""))
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    name = str(meta.get("name") or "") if isinstance(meta, dict) else ""
    current = store.get(name)
    if current is None:
        store.event(name, "delete-not-found")
        return 0
    store.path(name).unlink()
    store.event(name, "deleted", state=current.get("status", {}).get("applicationState", {}).get("state"))
    print(f"sparkapplication.sparkoperator.k8s.io/{name} deleted", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--store", required=True, type=Path, help="the API server's folder")
    parser.add_argument("--spark-submit", required=True, help="spark-submit of a PySpark install")
    parser.add_argument("--interval", type=float, default=0.2,
                        help="seconds between polls (Argo's RESOURCE_STATE_CHECK_INTERVAL, 5 s by default)")
    args = parser.parse_args(argv)
    store = Store(args.store)
    operator = Operator(store, args.spark_submit, args.interval)

    def stopped(signum: int, _frame: Any) -> None:
        operator.stop_driver()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, stopped)
    template = json.load(sys.stdin)
    resource = template.get("resource") or {}
    try:
        if resource.get("action") == "create":
            return create(template, store, operator)
        if resource.get("action") == "delete":
            return delete(template, store)
        raise Unsupported(f"resource action {resource.get('action')!r}")
    except Refused as exc:
        print(f"Error from server: {exc}", file=sys.stderr)
        print(str(exc))
        return 1
    except Unsupported as exc:
        print(f"not supported by {Path(__file__).name}: {exc}", file=sys.stderr)
        return 2
    finally:
        operator.stop_driver()


if __name__ == "__main__":
    sys.exit(main())
