"""The ``slurm-job`` wrapper's WorkflowTemplate, run by ``argo-migrate run --local`` against a real SLURM 22.05
reached over a real sshd on 127.0.0.1 (tests/engines/slurm.py).

Each test writes the template that ``workflow_template(WrapperOptions())`` returns, with the workflow's arguments
giving the ``inputs`` artifact from the run folder's artifact repository (as a calling Workflow would), and runs it
with ``--secret slurm-ssh=DIR``: DIR holds the test's generated ``ssh-privatekey`` and ``known_hosts``. What each
asserts is what SLURM itself reports (``squeue``/``scontrol``), not what the wrapper says about itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from backends.wrappers import WrapperOptions
from backends.wrappers.catalogue import inputs_of, template_name
from backends.wrappers.slurm_job import DOC, SECRET, arguments, workflow_template
from migrator.ir import Wrapped
from tests.engines.slurm import Slurm, module_fixture
from tests.engines.tools import wait_for

slurm = module_fixture()

CLI = str(Path(sys.executable).with_name("argo-migrate"))
INPUTS_KEY = "test-inputs"


def write_template(folder: Path) -> Path:
    # The inputs artifact is always given: run --local cannot yet pass main's optional artifact on to the run step
    # when it is absent (Argo drops it); see the report of this change.
    manifest = workflow_template(WrapperOptions())
    manifest["spec"]["arguments"]["artifacts"] = [{"name": "inputs", "s3": {"key": INPUTS_KEY}}]
    path = folder / "slurm-job.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))
    return path


def prepare(tmp_path: Path, inputs: dict[str, str] | None = None) -> tuple[Path, Path]:
    """(template file, run folder), the run folder's repository holding the inputs artifact."""
    run = tmp_path / "run"
    folder = run / "artifacts" / INPUTS_KEY
    folder.mkdir(parents=True)
    for name, text in (inputs or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return write_template(tmp_path), run


def argv(cluster: Slurm, template: Path, run: Path, params: dict[str, str], secret: Path | None = None) -> list[str]:
    values = {"host": cluster.host, "port": str(cluster.ssh_port), "user": cluster.user,
              "remote-dir": str(cluster.root / "home"), "ssh-backoff": "1", **params}
    out = [CLI, "run", "--local", str(template), "--workdir", str(run), "--timeout", "120",
           "--secret", f"slurm-ssh={secret or cluster.secret_dir}"]
    for name, value in values.items():
        out += ["-p", f"{name}={value}"]
    return out


def run_wrapper(cluster: Slurm, tmp_path: Path, inputs: dict[str, str], params: dict[str, str],
                secret: Path | None = None) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], Path]:
    template, run = prepare(tmp_path, inputs)
    done = subprocess.run(argv(cluster, template, run, params, secret), capture_output=True, text=True, timeout=150)
    return done, json.loads((run / "run.json").read_text()), run


def step_log(run: Path, key: str = "run") -> str:
    attempts = sorted((run / "nodes" / key).glob("attempt-*"))
    return "".join((attempts[-1] / name).read_text() for name in ("stdout.log", "stderr.log"))


def jobs_named(cluster: Slurm, prefix: str) -> list[tuple[str, str, str]]:
    return [job for job in cluster.jobs() if job[1].startswith(prefix + "-")]



def running_job(cluster: Slurm, prefix: str) -> tuple[str, str, str]:
    found = wait_for(lambda: [j for j in jobs_named(cluster, prefix) if j[2] == "RUNNING"], 30,
                     f"a RUNNING job named {prefix}-*")
    assert len(found) == 1, found
    return found[0]  # type: ignore[no-any-return]


def assert_cancelled(cluster: Slurm, job_id: str, prefix: str) -> None:
    state = cluster.job_field(job_id, "JobState")  # within MinJobAge (4 s) of its end, the controller knows it
    assert state == "CANCELLED", f"job {job_id} is {state}"
    time.sleep(1.5)  # longer than a scheduling cycle: a job that was only requeued would be back by now
    assert not [j for j in jobs_named(cluster, prefix) if j[2] in ("RUNNING", "PENDING", "COMPLETING")]
    assert not cluster.command("squeue", "-h", "-o", "%i").strip(), "no job may run on"


def test_template_is_lint_clean(tmp_path: Path) -> None:
    path = tmp_path / "slurm-job.yaml"
    path.write_text(yaml.safe_dump(workflow_template(WrapperOptions()), sort_keys=False))
    done = subprocess.run([CLI, "lint", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 errors, 0 warnings" in done.stdout + done.stderr
    manifest = yaml.safe_load(path.read_text())
    assert manifest["metadata"]["name"] == template_name("slurm-job")
    main = next(t for t in manifest["spec"]["templates"] if t["name"] == "main")
    assert main["inputs"]["parameters"] == inputs_of(DOC)["parameters"]
    assert main["steps"][0][0]["hooks"]["exit"]["template"] == "cancel"


def test_a_frontends_payload_becomes_the_parameters() -> None:
    action = Wrapped("slurm-job", (("job_script", "#!/bin/sh\n"), ("host", "login1"), ("unrelated", "x")))
    assert arguments(action, WrapperOptions()) == (("host", "login1"), ("job-script", "#!/bin/sh\n"))


def test_success_copies_outputs_back(slurm: Slurm, tmp_path: Path) -> None:
    script = "\n".join([
        "#!/bin/sh",
        "#SBATCH --output=job.log",
        "mkdir -p outputs",
        "tr a-z A-Z < data.txt > outputs/result.txt",
        "echo \"$SLURM_JOB_ID\" > outputs/job-id",
        "echo \"$SLURM_JOB_PARTITION\" > outputs/partition",
        "scontrol -o show job \"$SLURM_JOB_ID\" | tr ' ' '\\n' | grep '^TimeLimit=' > outputs/time-limit",
    ])
    done, report, run = run_wrapper(slurm, tmp_path, {"data.txt": "alpha\nbeta\n"}, {
        "job-script": script, "job-name": "t-ok", "partition": "debug", "time-limit": "5:00"})
    assert done.returncode == 0, step_log(run)
    assert report["phase"] == "Succeeded"
    outputs = Path(report["nodes"]["run"]["outputs"]["artifacts"]["outputs"])
    assert (outputs / "result.txt").read_text() == "ALPHA\nBETA\n"
    assert (outputs / "partition").read_text().strip() == "debug"
    assert (outputs / "time-limit").read_text().strip() == "TimeLimit=00:05:00"
    params = report["entrypoint"]["outputs"]["parameters"]
    assert params["job-id"] == (outputs / "job-id").read_text().strip()
    assert params["job-state"] == "COMPLETED" and params["exit-code"] == "0"
    assert [j[0] for j in jobs_named(slurm, "t-ok")] == [params["job-id"]]
    assert f"submitted SLURM job {params['job-id']}" in step_log(run)
    assert "back with rsync" in step_log(run)
    assert "nothing to cancel" in step_log(run, "run.onExit")


def test_remote_failure_fails_the_workflow_with_the_jobs_exit_code(slurm: Slurm, tmp_path: Path) -> None:
    script = "#!/bin/sh\necho 'about to fail'\nexit 3\n"
    done, report, run = run_wrapper(slurm, tmp_path, {"data.txt": "x\n"}, {"job-script": script, "job-name": "t-fail"})
    assert done.returncode == 1
    assert report["phase"] == "Failed"
    node = report["nodes"]["run"]
    assert node["exitCode"] == 3 and node["attempts"] == 1
    assert "exit code 3" in node["message"]
    log = step_log(run)
    assert "FAILED (exit code 3:0)" in log and "about to fail" in log
    assert node["outputs"]["parameters"]["job-state"] == "FAILED"
    assert len(jobs_named(slurm, "t-fail")) == 1, "a failed job is not submitted again"
    assert report["nodes"]["run.onExit"]["phase"] == "Succeeded"


def test_command_mode_runs_on_the_login_node(slurm: Slurm, tmp_path: Path) -> None:
    # What a workflow engine does on a login node: submit its own jobs and wait for them.
    command = ("sbatch --wait --job-name=t-cmd-inner --output=inner.log --wrap 'wc -l < data.txt > count' "
               "&& mkdir -p outputs && cp count outputs/count && hostname > outputs/where")
    done, report, run = run_wrapper(slurm, tmp_path, {"data.txt": "1\n2\n3\n"}, {"command": command, "job-name": "t-cmd"})
    assert done.returncode == 0, step_log(run)
    outputs = Path(report["nodes"]["run"]["outputs"]["artifacts"]["outputs"])
    assert (outputs / "count").read_text().strip() == "3"
    assert [j[2] for j in slurm.jobs("t-cmd-inner")] == ["COMPLETED"]


def test_without_rsync_the_files_go_through_tar(slurm: Slurm, tmp_path: Path) -> None:
    # An ssh client image without rsync: every command of PATH but rsync, for the runner and so for its steps.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for folder in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep):
        for tool in Path(folder).glob("*") if Path(folder).is_dir() else []:
            if tool.name != "rsync" and not (bin_dir / tool.name).exists():
                (bin_dir / tool.name).symlink_to(tool)
    template, run = prepare(tmp_path, {"data.txt": "a\nb\n", "sub/nested.txt": "n\n"})
    params = {"job-script": "#!/bin/sh\nmkdir -p outputs/deep\nwc -l < data.txt > outputs/deep/count\n"
                            "cp sub/nested.txt outputs/\n", "job-name": "t-tar"}
    done = subprocess.run(argv(slurm, template, run, params), capture_output=True, text=True, timeout=150,
                          env={**os.environ, "PATH": str(bin_dir)})
    assert done.returncode == 0, step_log(run)
    report = json.loads((run / "run.json").read_text())
    outputs = Path(report["nodes"]["run"]["outputs"]["artifacts"]["outputs"])
    assert (outputs / "deep" / "count").read_text().strip() == "2"
    assert (outputs / "nested.txt").read_text() == "n\n"
    log = step_log(run)
    assert "with tar through ssh" in log and "rsync" not in log


def test_stopping_the_workflow_cancels_the_job(slurm: Slurm, tmp_path: Path) -> None:
    template, run = prepare(tmp_path, {"data.txt": "x\n"})
    params = {"job-script": "#!/bin/sh\nsleep 300\n", "job-name": "t-stop"}
    proc = subprocess.Popen(argv(slurm, template, run, params), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        job_id = running_job(slurm, "t-stop")[0]
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM
    assert_cancelled(slurm, job_id, "t-stop")
    assert "stopped: cancelling SLURM job t-stop-" in step_log(run)


def test_a_killed_pod_leaves_the_cancelling_to_the_exit_hook(slurm: Slurm, tmp_path: Path) -> None:
    template, run = prepare(tmp_path, {"data.txt": "x\n"})
    params = {"job-script": "#!/bin/sh\nsleep 300\n", "job-name": "t-kill"}
    proc = subprocess.Popen(argv(slurm, template, run, params), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        job_id = running_job(slurm, "t-kill")[0]
        script = run / "nodes" / "run" / "attempt-0" / "script"
        step = wait_for(lambda: _process_running(script), 10, "the run step's process")
        assert step is not None
        os.killpg(os.getpgid(step), signal.SIGKILL)  # no SIGTERM first: the trap never runs, as on an OOM kill
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, out
    report = json.loads((run / "run.json").read_text())
    assert report["nodes"]["run"]["phase"] == "Failed"
    assert report["nodes"]["run.onExit"]["phase"] == "Succeeded"
    assert "cancelling SLURM job t-kill-" in step_log(run, "run.onExit")
    assert_cancelled(slurm, job_id, "t-kill")


def _process_running(script: Path) -> int | None:
    """The pid of the process running the step's script file (the step's own process group leader)."""
    needle = str(script).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "cmdline").read_bytes().split(b"\0"):
                return int(entry.name)
        except OSError:
            continue
    return None


def test_connection_refused_at_first_is_retried(slurm: Slurm, tmp_path: Path) -> None:
    template, run = prepare(tmp_path, {"data.txt": "x\n"})
    params = {"job-script": "#!/bin/sh\nmkdir -p outputs\necho ok > outputs/ok\n", "job-name": "t-net"}
    slurm.stop_sshd()
    proc = subprocess.Popen(argv(slurm, template, run, params), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        try:
            wait_for(lambda: (run / "nodes" / "run").exists() and "cannot reach" in step_log(run), 30,
                     "a refused connection")
        finally:
            slurm.start_sshd()  # a few seconds late: the step's next attempt gets through
        proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, step_log(run)
    log = step_log(run)
    assert "Connection refused" in log and "attempt 2 of 6" in log
    report = json.loads((run / "run.json").read_text())
    assert report["nodes"]["run"]["attempts"] == 1  # retried inside the step, not by rerunning it
    assert (Path(report["nodes"]["run"]["outputs"]["artifacts"]["outputs"]) / "ok").read_text() == "ok\n"
    assert len(jobs_named(slurm, "t-net")) == 1


def test_a_connection_broken_while_waiting_follows_the_same_job(slurm: Slurm, tmp_path: Path) -> None:
    template, run = prepare(tmp_path, {"data.txt": "x\n"})
    script = "#!/bin/sh\nsleep 4\nmkdir -p outputs\necho \"$SLURM_JOB_ID\" > outputs/id\n"
    proc = subprocess.Popen(argv(slurm, template, run, {"job-script": script, "job-name": "t-drop"}),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        job_id = running_job(slurm, "t-drop")[0]
        sshd = slurm.processes["sshd"].pid
        sessions = subprocess.run(["pgrep", "-P", str(sshd)], capture_output=True, text=True).stdout.split()
        assert sessions, "the wrapper's ssh session"
        for pid in sessions:  # the per-connection sshd: the client sees the connection drop
            os.kill(int(pid), signal.SIGKILL)
        proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    log = step_log(run)
    assert proc.returncode == 0, log
    assert "reconnecting to follow job" in log and f"following SLURM job {job_id}" in log
    report = json.loads((run / "run.json").read_text())
    assert (Path(report["nodes"]["run"]["outputs"]["artifacts"]["outputs"]) / "id").read_text().strip() == job_id
    assert [j[0] for j in jobs_named(slurm, "t-drop")] == [job_id], "never submitted twice"


@pytest.mark.parametrize("wrong", ["key", "host key"])
def test_bad_credentials_fail_clearly_and_never_leak_the_key(slurm: Slurm, tmp_path: Path, wrong: str) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    if wrong == "key":
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(secret / "ssh-privatekey")],
                       check=True, timeout=30)
        (secret / "ssh-privatekey.pub").unlink()
        (secret / "known_hosts").write_text(slurm.known_hosts.read_text())
    else:
        other = tmp_path / "other_host_key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True, timeout=30)
        kind, body = (other.with_suffix(".pub")).read_text().split()[:2]
        (secret / "known_hosts").write_text(f"[127.0.0.1]:{slurm.ssh_port} {kind} {body}\n")
        (secret / "ssh-privatekey").write_text(slurm.key.read_text())
    (secret / "ssh-privatekey").chmod(0o600)
    started = time.monotonic()
    done, report, run = run_wrapper(slurm, tmp_path, {"data.txt": "x\n"},
                                    {"job-script": "#!/bin/sh\ntrue\n", "job-name": "t-creds"}, secret)
    assert time.monotonic() - started < 30, "refused credentials are not retried like a network error"
    assert done.returncode == 1
    node = report["nodes"]["run"]
    assert node["phase"] == "Failed" and node["exitCode"] == 77
    log = step_log(run)
    assert "refused the credentials of the Secret slurm-ssh" in log
    assert ("Permission denied" if wrong == "key" else "Host key verification failed") in log
    assert not jobs_named(slurm, "t-creds")
    key_lines = [line for line in (secret / "ssh-privatekey").read_text().splitlines()[1:-1] if len(line) > 16]
    assert key_lines
    # Every file of the run but the mounted Secret itself (the runner's copy of it, as a pod's volume).
    files = [p for p in run.rglob("*") if p.is_file() and not {"volumes", SECRET} <= set(p.relative_to(run).parts)]
    leaks = [str(p) for p in files if any(line in p.read_text(errors="replace") for line in key_lines)]
    assert not leaks, f"key material in {sorted(set(leaks))}"
    assert not any(line in done.stdout + done.stderr for line in key_lines)
