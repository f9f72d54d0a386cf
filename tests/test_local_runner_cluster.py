"""``run --local`` standing in for what a cluster provides: images (``--image``), Secrets (``--secret``),
ConfigMaps (``--config-map``), WorkflowTemplates (``templateRef``, ``--templates``), and ``argo stop`` (SIGTERM to
the run gives every running step Kubernetes' grace period, so a wrapper can cancel its remote job)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.oracles.airflow_env import AIRFLOW3, ensure
from tests.test_local_runner import phases, result, run

STEP = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: w}}
spec:
  entrypoint: main
  templates:
  - name: main
    script:
      image: {image}
      command: [python]
      source: |
        {source}
"""


def _step(image: str, source: str) -> str:
    return STEP.format(image=image, source=textwrap.indent(textwrap.dedent(source), "        ").lstrip())


def test_an_image_runs_with_the_environment_mapped_to_it(tmp_path: Path) -> None:
    venv = ensure(AIRFLOW3).parent.parent
    manifest = _step("apache/airflow:3.3.2", "import airflow, sys\nprint(airflow.__version__)\n")
    code, report = run(tmp_path / "mapped", manifest, "--image", f"apache/airflow:3.3.2={venv}")
    assert code == 0 and report["entrypoint"]["outputs"]["result"] == "3.3.2"
    # Without the mapping the host's python has no Airflow: the step fails as it would in a wrong image.
    code, report = run(tmp_path / "unmapped", manifest)
    assert code == 1 and report["entrypoint"]["phase"] == "Failed"


def test_secret_keys_reach_env_and_volumes_and_a_missing_one_is_an_error(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "password").write_text("s3cr3t-value")
    manifest = """
    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    metadata: {name: w}
    spec:
      entrypoint: main
      templates:
      - name: main
        volumes: [{name: creds, secret: {secretName: db}}]
        podSpecPatch: '{"containers":[{"name":"main","env":[{"name":"PATCHED","valueFrom":{"secretKeyRef":{"name":"db","key":"password"}}}]}]}'
        script:
          image: python:3.12-slim
          command: [python]
          env:
          - {name: PW, valueFrom: {secretKeyRef: {name: db, key: password}}}
          - {name: OPT, valueFrom: {secretKeyRef: {name: nowhere, key: k, optional: true}}}
          volumeMounts: [{name: creds, mountPath: /etc/creds}]
          source: |
            import os
            mounted = open("/etc/creds/password").read()
            print(os.environ["PW"] == mounted == os.environ["PATCHED"] == "s3cr3t-value", "OPT" in os.environ)
    """
    code, report = run(tmp_path / "given", manifest, "--secret", f"db={secret}")
    assert code == 0 and report["entrypoint"]["outputs"]["result"] == "True False"
    code, report = run(tmp_path / "missing", manifest)
    assert code == 1 and report["entrypoint"]["phase"] == "Error"
    assert "--secret db=DIR" in report["entrypoint"]["message"]


def test_config_map_feeds_a_workflow_parameter_and_a_volume(tmp_path: Path) -> None:
    folder = tmp_path / "cm"
    folder.mkdir()
    (folder / "region").write_text("eu-west-1")
    manifest = """
    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    metadata: {name: w}
    spec:
      entrypoint: main
      arguments:
        parameters: [{name: region, valueFrom: {configMapKeyRef: {name: settings, key: region}}}]
      templates:
      - name: main
        volumes: [{name: s, configMap: {name: settings}}]
        container:
          image: alpine
          command: [sh, -c, 'echo {{workflow.parameters.region}} $(cat /cfg/region)']
          volumeMounts: [{name: s, mountPath: /cfg}]
    """
    code, report = run(tmp_path / "given", manifest, "--config-map", f"settings={folder}")
    assert code == 0 and report["entrypoint"]["outputs"]["result"] == "eu-west-1 eu-west-1"
    assert run(tmp_path / "missing", manifest)[0] == 2  # a parameter only a cluster could supply: cannot run


LIBRARY = """
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: lib}
spec:
  entrypoint: main
  templates:
  - name: main
    inputs: {parameters: [{name: who}]}
    steps:
    - - {name: inner, template: say, arguments: {parameters: [{name: who, value: "{{inputs.parameters.who}}"}]}}
  - name: say
    inputs: {parameters: [{name: who}]}
    container: {image: alpine, command: [echo, "hello {{inputs.parameters.who}}"]}
"""
CALLER = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: caller}
spec:
  entrypoint: say
  templates:
  - name: say  # the same name as the library's own template: each resolves in its own WorkflowTemplate
    dag:
      tasks:
      - {name: a, templateRef: {name: lib, template: main}, arguments: {parameters: [{name: who, value: world}]}}
"""


def test_template_refs_resolve_in_the_same_file_and_in_templates_folders(tmp_path: Path) -> None:
    code, report = run(tmp_path / "same-file", LIBRARY + "---\n" + CALLER)
    assert code == 0 and result(report, "a.inner") == "hello world"
    assert report["nodes"]["a.inner"]["template"] == "lib/say"
    library = tmp_path / "library"
    library.mkdir()
    (library / "lib.yaml").write_text(LIBRARY)
    code, report = run(tmp_path / "folder", CALLER, "--templates", str(library))
    assert code == 0 and phases(report)["a.inner"] == "Succeeded"
    assert run(tmp_path / "missing", CALLER)[0] == 2  # a WorkflowTemplate nobody gave: cannot run


def test_stopping_the_run_gives_steps_their_grace_period(tmp_path: Path) -> None:
    """What `argo stop` does to a pod: SIGTERM, time to clean up, then SIGKILL. A wrapper's clean-up (cancelling
    its remote job) must get to run."""
    marker = tmp_path / "run" / "cleaned-up"
    manifest = tmp_path / "m.yaml"
    manifest.write_text(_step("python:3.12-slim", f"""
        import signal, sys, time
        def stop(*_):
            time.sleep(1)  # a remote call takes a while
            open({str(marker)!r}, "w").write("cancelled")
            sys.exit(143)
        signal.signal(signal.SIGTERM, stop)
        print("started", flush=True)
        time.sleep(120)
    """))
    proc = subprocess.Popen([sys.executable, "-m", "migrator.cli", "run", "--local", str(manifest), "--workdir",
                             str(tmp_path / "run"), "--allow-host-path"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(Path.cwd())})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list((tmp_path / "run").glob("nodes/*/attempt-*/stdout.log")):
        time.sleep(0.2)
    logs = list((tmp_path / "run").glob("nodes/*/attempt-*/stdout.log"))
    while time.monotonic() < deadline and not (logs and "started" in logs[0].read_text()):
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert marker.read_text() == "cancelled"
    assert b"stopped 1 running step" in err

