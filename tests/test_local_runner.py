"""``argo-migrate run --local``: Argo's own examples, whose outcome Argo's docs and example comments state, and the
runner's bad-input behaviour. Each test names the text its expectation comes from.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from backends.argo.local.expressions import ExpressionError, evaluate_depends, evaluate_expr, evaluate_when
from backends.argo.local.paths import PathError, PathMap
from backends.argo.local.templating import MissingVariable, Scope, substitute
from backends.argo.manifest_model import DependsError, parse_depends
from migrator.cli import main
from tests.corpora import shared_dir

EXAMPLES = shared_dir() / "argo" / "examples"


def run(tmp_path: Path, manifest: str | Path, *extra: str) -> tuple[int, dict[str, Any]]:
    """Run a manifest (a path, or YAML text) in-process; the exit status and the report."""
    if isinstance(manifest, str):
        tmp_path.mkdir(parents=True, exist_ok=True)
        path = tmp_path / "manifest.yaml"
        path.write_text(textwrap.dedent(manifest))
    else:
        path = manifest
    report = tmp_path / "run.json"
    code = main(["run", "--local", str(path), "--workdir", str(tmp_path / "run"), "--report", str(report),
                 "--fast-forward", "--quiet", *extra])
    return code, json.loads(report.read_text()) if report.exists() else {}


def phases(report: dict[str, Any]) -> dict[str, str]:
    return {key: node["phase"] for key, node in report["nodes"].items()}


def result(report: dict[str, Any], key: str) -> Any:
    return report["nodes"][key]["outputs"]["result"]


# ----------------------------------------------------------------------------------------------- Argo's examples

def test_dag_diamond(tmp_path: Path) -> None:
    # docs/walk-through/dag.md: "B and C run in parallel after A; D runs once both complete".
    code, report = run(tmp_path, EXAMPLES / "dag-diamond.yaml")
    assert code == 0 and report["phase"] == "Succeeded"
    assert phases(report) == {"A": "Succeeded", "B": "Succeeded", "C": "Succeeded", "D": "Succeeded"}
    assert [result(report, k) for k in "ABCD"] == ["A", "B", "C", "D"]
    nodes = report["nodes"]
    assert nodes["D"]["template"] == "echo" and nodes["D"]["exitCode"] == 0


def test_steps_run_in_order_and_in_parallel(tmp_path: Path) -> None:
    # docs/walk-through/steps.md: hello1 first, then hello2a and hello2b in parallel.
    code, report = run(tmp_path, EXAMPLES / "steps.yaml")
    assert code == 0
    assert phases(report) == {"hello1": "Succeeded", "hello2a": "Succeeded", "hello2b": "Succeeded"}
    assert result(report, "hello2b") == "hello2b"


def test_loops_with_items_name_children_like_argo(tmp_path: Path) -> None:
    # docs/walk-through/loops.md: one step per item; fan-out children are reported as name(0), name(1).
    code, report = run(tmp_path, EXAMPLES / "loops.yaml")
    assert code == 0
    assert result(report, "print-message-loop(0)") == "hello world"
    assert result(report, "print-message-loop(1)") == "goodbye world"
    assert report["nodes"]["print-message-loop"]["type"] == "TaskGroup"


def test_loops_in_a_dag_and_with_sequence(tmp_path: Path) -> None:
    # examples/loops-dag.yaml: B fans out over foo, bar, baz between A and C.
    code, report = run(tmp_path / "dag", EXAMPLES / "loops-dag.yaml")
    assert code == 0
    assert [result(report, f"B({i})") for i in range(3)] == ["foo", "bar", "baz"]
    assert phases(report)["C"] == "Succeeded"
    # examples/loops-sequence.yaml: count 5 → 0..4; 100..105; start 200 count 3; 5 down to 0; printf format.
    code, report = run(tmp_path / "seq", EXAMPLES / "loops-sequence.yaml")
    assert code == 0
    assert [result(report, f"sequence-count({i})") for i in range(5)] == ["0", "1", "2", "3", "4"]
    assert result(report, "sequence-start-end(5)") == "105"
    assert [result(report, f"sequence-param({i})") for i in range(3)] == ["200", "201", "202"]
    assert result(report, "sequence-negative(0)") == "5" and result(report, "sequence-negative(5)") == "0"
    assert result(report, "sequence-format(4)") == "testuser04"


def test_nested_dags_are_keyed_caller_dot_task(tmp_path: Path) -> None:
    # examples/dag-nested.yaml: each outer task runs the inner diamond with its letter as prefix.
    code, report = run(tmp_path, EXAMPLES / "dag-nested.yaml")
    assert code == 0
    assert report["nodes"]["A"]["type"] == "DAG"
    assert result(report, "A.A") == "AA" and result(report, "D.C") == "DC"
    assert len(report["nodes"]) == 4 + 16


def test_dag_target(tmp_path: Path) -> None:
    # examples/dag-targets.yaml: target E runs only E and its ancestors (A, C).
    code, report = run(tmp_path / "e", EXAMPLES / "dag-targets.yaml")
    assert code == 0 and sorted(report["nodes"]) == ["A", "C", "E"]
    code, report = run(tmp_path / "bd", EXAMPLES / "dag-targets.yaml", "-p", "target=B D")
    assert code == 0 and sorted(report["nodes"]) == ["A", "B", "C", "D"]


def test_coinflip_conditionals(tmp_path: Path) -> None:
    # docs/walk-through/conditionals.md: exactly one of heads/tails runs, the other is Skipped.
    code, report = run(tmp_path, EXAMPLES / "coinflip.yaml")
    assert code == 0
    flip = result(report, "flip-coin")
    assert flip in ("heads", "tails")
    other = "tails" if flip == "heads" else "heads"
    assert phases(report)[flip] == "Succeeded" and phases(report)[other] == "Skipped"


def test_status_reference_with_continue_on(tmp_path: Path) -> None:
    # examples/status-reference.yaml: the flakey container fails (continueOn failed), so "failed" runs.
    code, report = run(tmp_path, EXAMPLES / "status-reference.yaml")
    assert code == 0 and report["phase"] == "Succeeded"
    assert phases(report) == {"flakey-container": "Failed", "failed": "Succeeded", "succeeded": "Skipped"}


def test_continue_on_fail_steps(tmp_path: Path) -> None:
    # docs/walk-through/continue-on-fail.md: C fails with continueOn failed, D still runs, the workflow succeeds.
    code, report = run(tmp_path, EXAMPLES / "continue-on-fail.yaml")
    assert code == 0
    assert phases(report) == {"A": "Succeeded", "B": "Succeeded", "C": "Failed", "D": "Succeeded"}


def test_dag_depends_on_failure(tmp_path: Path) -> None:
    # examples/dag-continue-on-fail.yaml (labelled expected-failure): D runs on B.Failed && C; G is omitted
    # because E failed; the omitted leaf under a failed branch fails the DAG (ARGO-SEMANTICS §2.4).
    code, report = run(tmp_path, EXAMPLES / "dag-continue-on-fail.yaml")
    assert code == 1 and report["phase"] == "Failed"
    assert phases(report) == {"A": "Succeeded", "B": "Failed", "C": "Succeeded", "D": "Succeeded",
                              "E": "Failed", "F": "Succeeded", "G": "Omitted"}


def test_enhanced_depends(tmp_path: Path) -> None:
    # examples/dag-enhanced-depends.yaml and docs/enhanced-depends-logic.md: task names say what happens.
    code, report = run(tmp_path, EXAMPLES / "dag-enhanced-depends.yaml")
    assert code == 0
    p = phases(report)
    assert p["C"] == "Failed" and p["should-not-execute"] == "Omitted"
    assert all(p[f"should-execute-{i}"] == "Succeeded" for i in (1, 2, 3))


def test_exit_handler_sees_failed_status(tmp_path: Path) -> None:
    # docs/walk-through/exit-handlers.md: the exit handler runs after the failure; cry runs, celebrate is skipped.
    code, report = run(tmp_path, EXAMPLES / "exit-handlers.yaml")
    assert code == 1 and report["phase"] == "Failed"
    assert report["entrypoint"]["phase"] == "Failed" and report["entrypoint"]["exitCode"] == 1
    p = phases(report)
    assert p["onExit"] == "Succeeded" and p["onExit.cry"] == "Succeeded" and p["onExit.celebrate"] == "Skipped"
    assert "exit-handlers-local Failed" in result(report, "onExit.notify")


def test_task_and_step_exit_hooks(tmp_path: Path) -> None:
    # examples/exit-handler-dag-level.yaml and exit-handler-step-level.yaml: each task/step runs its exit hook.
    code, report = run(tmp_path / "dag", EXAMPLES / "exit-handler-dag-level.yaml")
    assert code == 0 and all(phases(report)[f"{t}.onExit"] == "Succeeded" for t in "ABCD")
    code, report = run(tmp_path / "steps", EXAMPLES / "exit-handler-step-level.yaml")
    assert code == 0 and result(report, "hello2b.onExit") == "step cleanup"


def test_exit_handler_failure_fails_a_successful_workflow(tmp_path: Path) -> None:
    # ARGO-SEMANTICS §2.4: "If the exit handler fails or errors, a workflow that would have succeeded is marked
    # Failed/Error".
    code, report = run(tmp_path, """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {name: exit-fails}
        spec:
          entrypoint: ok
          onExit: bad
          templates:
          - name: ok
            container: {image: busybox, command: [sh, -c, "echo {{workflow.status}}"]}
          - name: bad
            container: {image: busybox, command: [sh, -c, "echo {{workflow.status}}; exit 3"]}
        """)
    assert code == 1 and report["phase"] == "Failed"
    assert report["entrypoint"]["outputs"]["result"] == "Running"
    assert result(report, "onExit") == "Succeeded" and report["nodes"]["onExit"]["exitCode"] == 3


def test_parameter_passing(tmp_path: Path) -> None:
    # docs/walk-through/output-parameters.md: the consumer prints what the producer wrote to /tmp/hello_world.txt.
    code, report = run(tmp_path / "out", EXAMPLES / "output-parameter.yaml")
    assert code == 0
    assert report["nodes"]["generate-parameter"]["outputs"]["parameters"] == {"hello-param": "hello world"}
    assert result(report, "consume-parameter") == "hello world"
    # docs/walk-through/parameters.md: -p overrides the workflow argument.
    code, report = run(tmp_path / "args", EXAMPLES / "arguments-parameters.yaml", "-p", "message=goodbye world")
    assert code == 0 and report["entrypoint"]["outputs"]["result"] == "goodbye world"
    code, report = run(tmp_path / "global", EXAMPLES / "global-parameters.yaml")
    assert code == 0 and report["entrypoint"]["outputs"]["result"] == "hello world"


def test_parameter_aggregation(tmp_path: Path) -> None:
    # examples/parameter-aggregation-dag.yaml: a fan-out's outputs aggregate to JSON lists; withParam over them.
    code, report = run(tmp_path, EXAMPLES / "parameter-aggregation-dag.yaml")
    assert code == 0
    assert result(report, "print-nums") == '["1","2","3","4"]'
    assert phases(report)["divide-by-2(0)"] == "Skipped" and result(report, "divide-by-2(1)") == "1"
    assert [result(report, f"print({i})") for i in range(2)] == ["1", "2"]


def test_scripts_exit_codes_and_expressions(tmp_path: Path) -> None:
    # docs/walk-through/scripts-and-results.md: a script's stdout is outputs.result.
    code, report = run(tmp_path / "py", EXAMPLES / "scripts-python.yaml")
    assert code == 0 and 1 <= int(result(report, "generate")) <= 100
    code, report = run(tmp_path / "sh", EXAMPLES / "scripts-bash.yaml")
    assert code == 0 and result(report, "print").startswith("result was: ")
    # examples/exit-code-output-variable.yaml: {{steps.failing-container.exitCode}} is 123.
    code, report = run(tmp_path / "exit", EXAMPLES / "exit-code-output-variable.yaml")
    assert code == 0 and result(report, "echo-container") == "Exit code was: 123"
    # examples/expression-destructure-json.yaml: jsonpath over a JSON parameter gives 1, 2, 3.
    code, report = run(tmp_path / "expr", EXAMPLES / "expression-destructure-json.yaml")
    assert code == 0 and report["entrypoint"]["outputs"]["result"] == "123"


def test_artifacts_and_volumes_are_seen_at_declared_paths(tmp_path: Path) -> None:
    # docs/walk-through/artifacts.md: the consumer cats /tmp/message, the producer's /tmp/hello_world.txt.
    code, report = run(tmp_path / "art", EXAMPLES / "artifact-passing.yaml")
    assert code == 0 and result(report, "consume-artifact") == "hello world"
    stored = Path(report["nodes"]["generate-artifact"]["outputs"]["artifacts"]["hello-art"])
    assert stored.read_text() == "hello world\n" and stored.is_relative_to(tmp_path / "art" / "run" / "artifacts")
    # docs/walk-through/volumes.md: a volumeClaimTemplate is shared by the steps at /mnt/vol.
    code, report = run(tmp_path / "vol", EXAMPLES / "volumes-pvc.yaml")
    assert code == 0 and result(report, "print").endswith("hello world")


def test_suspend_with_duration(tmp_path: Path) -> None:
    # examples/suspend-template.yaml: approve (no duration) then delay (20s), fast-forwarded here.
    start = time.monotonic()
    code, report = run(tmp_path, EXAMPLES / "suspend-template.yaml")
    assert code == 0 and time.monotonic() - start < 10
    assert "fast-forwarded" in report["nodes"]["delay"]["message"]


# ----------------------------------------------------------------------------------------------- our manifests

RETRY = """
    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    metadata: {name: retries}
    spec:
      entrypoint: main
      templates:
      - name: main
        steps:
        - - {name: flaky, template: flaky}
          - {name: on-error-only, template: on-error-only}
      - name: flaky
        retryStrategy: {limit: "%(limit)s", backoff: {duration: 5s, factor: 2}}
        container: {image: alpine, command: [sh, -c, "echo try {{retries}}; exit $(( {{retries}} < 2 ))"]}
      - name: on-error-only
        retryStrategy: {limit: 3, retryPolicy: OnError}
        container: {image: alpine, command: [sh, -c, "exit 1"]}
        """


def test_retry_limit_policy_and_backoff(tmp_path: Path) -> None:
    # docs/retries.md: limit is the number of retries; OnError does not retry a failure; --fast-forward skips
    # the 5s/10s backoff.
    start = time.monotonic()
    code, report = run(tmp_path / "ok", RETRY % {"limit": 3})
    assert time.monotonic() - start < 10
    nodes = report["nodes"]
    assert nodes["flaky"]["phase"] == "Succeeded" and nodes["flaky"]["attempts"] == 3
    assert nodes["flaky"]["outputs"]["result"] == "try 2"
    assert nodes["on-error-only"]["phase"] == "Failed" and nodes["on-error-only"]["attempts"] == 1
    assert code == 1  # on-error-only fails the steps
    code, report = run(tmp_path / "short", RETRY % {"limit": 1})
    assert report["nodes"]["flaky"]["phase"] == "Failed" and report["nodes"]["flaky"]["attempts"] == 2


def test_retry_expression(tmp_path: Path) -> None:
    # docs/retries.md "Conditional retries": the expression sees lastRetry.exitCode.
    code, report = run(tmp_path, """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {name: retry-expr}
        spec:
          entrypoint: main
          templates:
          - name: main
            retryStrategy: {limit: 5, expression: "asInt(lastRetry.exitCode) > 1"}
            container: {image: alpine, command: [sh, -c, "exit $(( 3 - {{retries}} ))"]}
        """)
    assert code == 1 and report["entrypoint"]["attempts"] == 3 and report["entrypoint"]["exitCode"] == 1


SKIPPED_PRODUCER = """
    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    metadata: {name: skipped-outputs}
    spec:
      entrypoint: main
      templates:
      - name: main
        dag:
          tasks:
          - {name: producer, template: produce, when: "false"}
          - name: consumer
            template: consume
            depends: "producer.Succeeded || producer.Skipped"
            arguments: {parameters: [{name: in, value: "{{tasks.producer.outputs.parameters.msg}}"}]}
        outputs:
          parameters:
          - name: result
            valueFrom: {expression: "tasks.producer.outputs.parameters.msg ?? 'expr-fallback'"}
      - name: produce
        outputs: {parameters: [{name: msg, valueFrom: {path: /tmp/out.txt %(producer_default)s}}]}
        container: {image: alpine, command: [sh, -c, "echo real-value > /tmp/out.txt"]}
      - name: consume
        inputs: {parameters: [{name: in %(consumer_default)s}]}
        container: {image: alpine, command: [echo, "consumer got: [{{inputs.parameters.in}}]"]}
    """


@pytest.mark.parametrize(("producer_default", "consumer_default", "expected"), [
    (', default: "hello-from-producer"', "", "consumer got: [hello-from-producer]"),
    ("", ', default: "fallback-from-input"', "consumer got: [fallback-from-input]"),
    ("", "", None),
])
def test_outputs_of_skipped_tasks(tmp_path: Path, producer_default: str, consumer_default: str,
                                  expected: str | None) -> None:
    # examples/skipped-output-defaults_*.yaml and ARGO-SEMANTICS §2.5: a skipped producer's outputs are absent;
    # the producer's valueFrom.default, the consumer's input default or ?? supplies them; else the consumer errors.
    code, report = run(tmp_path, SKIPPED_PRODUCER % {"producer_default": producer_default,
                                                     "consumer_default": consumer_default})
    consumer = report["nodes"]["consumer"]
    if expected is None:
        assert code == 1 and consumer["phase"] == "Error" and "tasks.producer.outputs" in consumer["message"]
    else:
        assert code == 0 and consumer["outputs"]["result"] == expected
        fallback = "hello-from-producer" if producer_default else "expr-fallback"
        assert report["entrypoint"]["outputs"]["parameters"] == {"result": fallback}


FAIL_FAST = """
    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    metadata: {name: fail-fast}
    spec:
      entrypoint: main
      templates:
      - name: main
        %(parallelism)s
        dag:
          %(fail_fast)s
          tasks:
          - {name: broken, template: fail}
          - {name: slow, template: slow}
          - {name: after-slow, template: ok, depends: slow}
      - name: fail
        container: {image: alpine, command: [sh, -c, "exit 1"]}
      - name: slow
        container: {image: alpine, command: [sh, -c, "sleep 0.3"]}
      - name: ok
        container: {image: alpine, command: ["true"]}
    """


@pytest.mark.parametrize(("parallelism", "fail_fast", "expected"), [
    ("", "", {"broken": "Failed", "slow": "Succeeded", "after-slow": "Succeeded"}),
    ("", "failFast: false", {"broken": "Failed", "slow": "Succeeded", "after-slow": "Succeeded"}),
    ("parallelism: 1", "", {"broken": "Failed", "slow": "Succeeded", "after-slow": "Succeeded"}),
    ("parallelism: 1\n        failFast: true", "", {"broken": "Failed"}),
])
def test_fail_fast(tmp_path: Path, parallelism: str, fail_fast: str, expected: dict[str, str]) -> None:
    # workflow/controller/dag.go (v4.1.2): assessDAGPhase returns Running while any node of the DAG runs, and
    # executeDAG starts every ready task before assessing, so dag.failFast (default true) changes no outcome;
    # the template-level failFast: true stops new children after a failure (operator.go checkParallelism, e2e
    # TestWorkflowParallelismDAGFailFast). docs/walk-through/dag.md words dag.failFast as "no new tasks will be
    # scheduled"; the README's run --local section explains the difference. The DAG fails in every case.
    code, report = run(tmp_path, FAIL_FAST % {"fail_fast": fail_fast, "parallelism": parallelism})
    assert code == 1 and report["phase"] == "Failed"
    assert phases(report) == expected


def test_nested_steps_keys_and_parallel_jobs(tmp_path: Path) -> None:
    manifest = """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {name: nested}
        spec:
          entrypoint: outer
          templates:
          - name: outer
            steps:
            - - {name: group, template: inner, withItems: [a, b]}
          - name: inner
            steps:
            - - {name: one, template: nap}
              - {name: two, template: nap}
          - name: nap
            container: {image: alpine, command: [sh, -c, "sleep 0.4"]}
        """
    start = time.monotonic()
    code, report = run(tmp_path / "j4", manifest, "--jobs", "4")
    parallel = time.monotonic() - start
    assert code == 0
    assert sorted(report["nodes"]) == ["group", "group(0)", "group(0).one", "group(0).two", "group(1)",
                                       "group(1).one", "group(1).two"]
    start = time.monotonic()
    code, _ = run(tmp_path / "j1", manifest, "--jobs", "1")
    assert code == 0 and time.monotonic() - start >= 1.6 > parallel


# ----------------------------------------------------------------------------------------------- bad input

def test_bad_manifests_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Since run --local lints first, a manifest Argo would reject is stopped by lint, and reported as lint reports it
    # (these expectations were the runner's own messages before).
    cases = {
        "malformed": ("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec: [unclosed\n",
                      "error AM402: invalid YAML"),
        "kind": ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "no runnable manifest: found ConfigMap"),
        "cycle": ("""
            apiVersion: argoproj.io/v1alpha1
            kind: Workflow
            spec:
              entrypoint: main
              templates:
              - name: main
                dag:
                  tasks:
                  - {name: a, template: t, depends: b}
                  - {name: b, template: t, depends: a}
              - {name: t, container: {image: x, command: ["true"]}}
            """, "error AM414: dependency cycle in DAG template 'main': a -> b -> a"),
        "missing": ("""
            apiVersion: argoproj.io/v1alpha1
            kind: Workflow
            spec:
              entrypoint: main
              templates:
              - name: main
                steps: [[{name: a, template: nowhere}]]
            """, "error AM410: template 'nowhere' is not defined in spec.templates"),
        "results": ("""
            apiVersion: argoproj.io/v1alpha1
            kind: Workflow
            spec:
              entrypoint: main
              templates:
              - name: main
                dag: {tasks: [{name: a, template: t}, {name: b, template: t, depends: a.Finished}]}
              - {name: t, container: {image: x, command: ["true"]}}
            """, "error AM412: depends of task 'b' is invalid: task result 'Finished'"),
    }
    for name, (text, message) in cases.items():
        code, report = run(tmp_path / name, text)
        assert code == 2 and report == {}, name
        assert message in capsys.readouterr().err, name
    assert main(["run", "--local", str(tmp_path / "absent.yaml")]) == 2
    assert main(["run", str(EXAMPLES / "hello-world.yaml")]) == 2  # --local is required


def test_missing_command_fails_the_node_with_the_reason(tmp_path: Path) -> None:
    code, report = run(tmp_path, """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {name: whalesay}
        spec:
          entrypoint: main
          templates:
          - name: main
            container: {image: docker/whalesay, command: [cowsay-not-here, hello]}
        """)
    assert code == 1 and report["phase"] == "Failed"
    assert "command 'cowsay-not-here' not found on this host" in report["entrypoint"]["message"]
    assert report["entrypoint"]["exitCode"] == 127


def test_runaway_step_and_endless_workflow_are_stopped(tmp_path: Path) -> None:
    # A step over its activeDeadlineSeconds is killed and Failed; a workflow that never ends stops at --timeout.
    start = time.monotonic()
    code, report = run(tmp_path / "step", """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {name: runaway}
        spec:
          entrypoint: main
          templates:
          - name: main
            activeDeadlineSeconds: 1
            container: {image: alpine, command: [sh, -c, "sleep 30"]}
        """)
    assert code == 1 and "longer than the specified deadline" in report["entrypoint"]["message"]
    code, report = run(tmp_path / "forever", EXAMPLES / "forever.yaml", "--timeout", "1.5")
    assert code == 1 and report["phase"] == "Failed" and "--timeout" in report["message"]
    assert time.monotonic() - start < 12


def test_report_contract(tmp_path: Path) -> None:
    code, report = run(tmp_path, EXAMPLES / "dag-diamond.yaml")
    assert {"phase", "nodes", "entrypoint", "message", "workflow", "runFolder"} <= set(report)
    for node in report["nodes"].values():
        assert {"phase", "template", "outputs", "exitCode"} <= set(node)
        assert set(node["outputs"]) >= {"parameters", "result"}
    log = Path(report["runFolder"]) / report["nodes"]["A"]["log"] / "stdout.log"
    assert log.read_text() == "A\n"


def test_help_stays_fast_and_lazy() -> None:
    code = ("import sys; from migrator.cli import main; main(['--help'])\n"
            "assert 'backends.argo.local' not in sys.modules and 'hera' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "run" in subprocess.run([sys.executable, "-m", "migrator.cli", "run", "--help"], capture_output=True,
                                   text=True).stdout


# ----------------------------------------------------------------------------------------------- the languages

def test_depends_parser() -> None:
    expr = parse_depends("A && (B.Failed || !C.Omitted) || should-run-2.Succeeded")
    assert expr.tasks() == ["A", "B", "C", "should-run-2"]
    states = {"A": "Succeeded", "B": "Succeeded", "C": "Omitted", "should-run-2": "Failed"}
    assert evaluate_depends(expr, lambda t, r: states[t] == {"Errored": "Error"}.get(r, r), lambda t: {}) is False
    with pytest.raises(DependsError):
        parse_depends("A &&")


def test_when_is_govaluate_after_substitution() -> None:
    assert evaluate_when("Succeeded == Succeeded") is True
    assert evaluate_when("true == true && 5 > 3")
    assert evaluate_when("'a b' != \"a b\"") is False
    assert evaluate_when("tails =~ '^t'") and evaluate_when("!(1 == 2) || x == y")
    for bad in ("heads ==", "5 > abc", "hello-world == hello-world", "1"):
        with pytest.raises(ExpressionError):
            evaluate_when(bad)


def test_expression_tags() -> None:
    scope = Scope({"inputs.parameters.should-print": "true", "workflow.parameters.config": '{"a": [1, 2]}'})
    assert substitute("{{= inputs.parameters['should-print'] == 'true' }}", scope) == "true"
    assert substitute("{{=jsonpath(workflow.parameters.config, '$.a[1]') + 1}}", scope) == "3"
    assert substitute("{{=sprig.upper('x') + string(asInt('4'))}}", scope) == "X4"
    assert evaluate_expr("nothing ?? 'fallback'", {}) == "fallback"
    with pytest.raises(MissingVariable):
        substitute("{{tasks.a.outputs.result}}", scope)
    assert substitute("{{ ds }} {{tasks.a.status}}", scope, defer=("tasks.",)) == "{{ ds }} {{tasks.a.status}}"
    with pytest.raises(MissingVariable, match="not in the local runner's subset"):
        substitute("{{=sprig.regexFind('a', 'b')}}", scope)


def test_path_mapping_rewrites_whole_paths_only() -> None:
    pm = PathMap()
    pm.add("/tmp", "/run/fs/tmp")
    pm.add("/mnt/vol", "/run/volumes/workdir")
    assert pm.rewrite("echo x > /tmp/a; cat /mnt/vol/f /mnt/volume /var/tmp '/tmp'") == \
        "echo x > /run/fs/tmp/a; cat /run/volumes/workdir/f /mnt/volume /var/tmp '/run/fs/tmp'"
    assert pm.host("/mnt/vol/x/y") == "/run/volumes/workdir/x/y"
    with pytest.raises(PathError):  # an unmapped path is refused, never the host's own (FINDINGS F2)
        pm.host("/etc/hosts")
    with pytest.raises(PathError):
        pm.host("/tmp/../etc/hosts")
