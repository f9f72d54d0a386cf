"""Regression tests for ``../shared/repros/reliability/`` (FINDINGS.md): each test runs the reproduction the finding
names and asserts the fixed behaviour — a diagnostic, a refused path, no host file touched, nothing from the
migrating process in a manifest.

The inputs that can exhaust the machine when the fix regresses (memory and CPU bombs) run in a child process under
``RLIMIT_AS`` and a timeout, so that a regression fails this test instead of the machine.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from backends.wrappers import WrapperOptions
from backends.wrappers.reference import documents
from migrator.cli import main
from tests.corpora import shared_dir

REPROS = shared_dir() / "repros" / "reliability"


def _migrate(tmp_path: Path, source: Path | str, name: str = "dag.py") -> tuple[int, str, dict[str, Any]]:
    """Migrate one file in-process: exit status, every output byte as text, and the report."""
    src = tmp_path / "in" / name
    src.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(source, Path):
        shutil.copy(source, src)
    else:
        src.write_text(textwrap.dedent(source))
    out = tmp_path / "out"
    code = main(["airflow", str(src), "-o", str(out), "--quiet"])
    written = "".join(_without_catalogue(p.read_text()) for p in sorted(out.glob("*.yaml")))
    report = json.loads((out / "migration-report.json").read_text())
    return code, written, report


def _without_catalogue(text: str) -> str:
    """The manifest's own documents: the wrapper catalogue's WorkflowTemplates written after it are fixed text,
    checked here to be exactly the catalogue's (nothing of the input reaches them), then left out."""
    kept = []
    catalogue = {d["metadata"]["name"]: d for d in documents(WrapperOptions())}
    for part in text.split("\n---\n"):
        document = yaml.safe_load(part)
        if (document.get("metadata") or {}).get("labels", {}).get("argo-migrate.io/wrapper"):
            assert document == catalogue[document["metadata"]["name"]]
            continue
        kept.append(part)
    return "\n---\n".join(kept)


def _codes(report: dict[str, Any]) -> list[str]:
    return [d["code"] for f in report["files"] for d in f["diagnostics"]]


# --- F1: the static evaluator never renders its own objects ---------------------------------------------------


def test_f1_format_cannot_walk_into_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_IN_ENV", "hunter2-secret-value")
    code, written, report = _migrate(tmp_path, REPROS / "env_leak.py")
    assert "hunter2-secret-value" not in written
    assert "environ" not in written and "__globals__" not in json.dumps(report).replace(
        "0.__init__.__globals__", "")  # the source text may be quoted; no evaluated internals may appear
    assert "AM103" in _codes(report)
    assert code in (0, 1)


@pytest.mark.parametrize("expression", [
    '"{0.__init__.__globals__}".format(Variable)',
    '"{0}".format(os.environ)',
    '"%s" % (sys.modules,)',
    '"{0.__init__.__globals__[__builtins__][open]}".format(Variable)',
    '"{0[0]}".format(["ok"])',
])
def test_f1_format_and_percent_only_over_plain_values(tmp_path: Path, expression: str) -> None:
    code, written, report = _migrate(tmp_path, f"""\
        import os, sys
        from airflow.sdk import DAG, Variable
        from airflow.providers.standard.operators.bash import BashOperator
        with DAG(dag_id="fmt", schedule=None):
            BashOperator(task_id="a", bash_command={expression})
        """)
    for leak in ("0x7f", "Qual(", "built-in function", "site-packages", "environ"):
        assert leak not in written
    # The two runs' bytes are equal: nothing that varies per process (an address) reached the output.
    main(["airflow", str(tmp_path / "in" / "dag.py"), "-o", str(tmp_path / "again"), "--quiet"])
    assert written == "".join(_without_catalogue(p.read_text()) for p in sorted((tmp_path / "again").glob("*.yaml")))
    assert "AM103" in _codes(report)


def test_f1_plain_format_still_evaluates(tmp_path: Path) -> None:
    _, written, report = _migrate(tmp_path, """\
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.bash import BashOperator
        with DAG(dag_id="fmt", schedule=None):
            BashOperator(task_id="a", bash_command="echo {0}-{x:>4}-%s".format(1, x="b") % "c")
        """)
    assert "echo 1-   b-c" in written
    assert "AM103" not in _codes(report)


# --- F3: bombs are bounded ------------------------------------------------------------------------------------


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))


GOOD_DAG = textwrap.dedent("""\
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.bash import BashOperator
    with DAG(dag_id="good", schedule=None):
        BashOperator(task_id="a", bash_command="echo ok")
    """)


def _batch_beside_a_good_file(tmp_path: Path, folder: Path, timeout: int = 180) -> tuple[int, str, dict[str, Any]]:
    """Migrate ``folder`` (plus a good DAG file sorted last) in a child process with a memory limit: exit status,
    stderr and report; the good file must still be migrated, whatever the others did."""
    (folder / "z_good.py").write_text(GOOD_DAG)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "migrator.cli", "airflow", str(folder), "-o", str(out),
                           "--format", "json"], capture_output=True, text=True, timeout=timeout, preexec_fn=_limited)
    report = json.loads((out / "migration-report.json").read_text())
    assert (out / "good.yaml").exists()
    return done.returncode, done.stderr, report


@pytest.mark.parametrize("name, code", [
    ("range_oom.py", "AM103"), ("pow_hang.py", "AM103"), ("loops_hang.py", "AM126"),
])
def test_f3_bombs_become_diagnostics_and_the_batch_goes_on(tmp_path: Path, name: str, code: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(REPROS / name, folder / name)
    status, stderr, report = _batch_beside_a_good_file(tmp_path, folder)
    assert status in (0, 1), stderr[-2000:]
    assert code in _codes(report)


@pytest.mark.parametrize("expression", ['"x" * (10**10)', "[1] * (10**9)", "9**9**9**9", 'f"{1:>{10**10}}"',
                                        '"a".zfill(10**10)', '"%10000000000d" % 1'])
def test_f3_value_bombs_are_not_computed(tmp_path: Path, expression: str) -> None:
    src = tmp_path / "bomb.py"
    src.write_text(textwrap.dedent(f"""\
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.bash import BashOperator
        S = {expression}
        with DAG(dag_id="bomb", schedule=None):
            BashOperator(task_id="a", bash_command="echo " + str(S))
        """))
    done = subprocess.run([sys.executable, "-m", "migrator.cli", "airflow", str(src), "-o", str(tmp_path / "o"),
                           "--format", "json"], capture_output=True, text=True, timeout=120, preexec_fn=_limited)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    report = json.loads((tmp_path / "o" / "migration-report.json").read_text())
    assert "AM103" in _codes(report)


# --- F2: run --local never touches the host outside its run folder ----------------------------------------------


def _run(tmp_path: Path, manifest: str, *extra: str) -> tuple[int, dict[str, Any]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "manifest.yaml"
    path.write_text(textwrap.dedent(manifest))
    report = tmp_path / "run.json"
    code = main(["run", "--local", str(path), "--workdir", str(tmp_path / "run"), "--report", str(report),
                 "--quiet", *extra])
    return code, json.loads(report.read_text()) if report.exists() else {}


def test_f2_relative_input_artifact_cannot_replace_a_host_folder(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    victim = tmp_path / "victim_dir"
    (victim / "sub").mkdir(parents=True)
    (victim / "sub" / "data.txt").write_text("precious")
    cwd = tmp_path / "a" / "b"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    text = (REPROS / "run_rmtree.yaml").read_text()
    escape = "../" * 12 + str(victim).lstrip("/")
    text = text.replace("../../../../../../../../tmp/victim_dir", escape)
    assert escape in text
    code, report = _run(tmp_path, text)
    assert (victim / "sub" / "data.txt").read_text() == "precious"
    assert code == 1
    consume = next(n for key, n in report["nodes"].items() if key.endswith("consume"))
    assert consume["phase"] == "Error" and "'..'" in consume["message"]


def test_f2_output_parameters_never_read_host_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "relia-secret.txt").write_text("host-secret-in-cwd")
    code, report = _run(tmp_path, (REPROS / "run_outparam.yaml").read_text())
    assert code == 1
    assert "host-secret-in-cwd" not in json.dumps(report)
    assert "root:" not in json.dumps(report)  # /etc/shadow's first entry
    # Without the '..' parameter, a relative path is the container's, inside the run folder: not the cwd's file.
    code, report = _run(tmp_path / "rel", """\
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {name: rel}
        spec:
          entrypoint: main
          templates:
          - name: main
            container: {image: alpine, command: ["true"]}
            outputs:
              parameters:
              - {name: relhost, valueFrom: {path: relia-secret.txt}}
        """)
    assert "host-secret-in-cwd" not in json.dumps(report)
    assert code == 1


def test_f2_a_link_left_by_a_step_is_not_followed_out_of_the_run(tmp_path: Path) -> None:
    secret = tmp_path / "host-secret.txt"
    secret.write_text("outside-the-run")
    code, report = _run(tmp_path, f"""\
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {{name: link}}
        spec:
          entrypoint: main
          templates:
          - name: main
            container: {{image: alpine, command: [sh, -c, "ln -s {secret} /tmp/out.txt"]}}
            outputs:
              parameters:
              - {{name: p, valueFrom: {{path: /tmp/out.txt}}}}
        """)
    assert "outside-the-run" not in json.dumps(report)
    assert code == 1


def test_f2_working_dir_with_dotdot_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "WD_ESCAPE"
    code, report = _run(tmp_path, f"""\
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {{name: wd}}
        spec:
          entrypoint: main
          templates:
          - name: main
            container: {{image: alpine, command: ["true"], workingDir: "{'../' * 12}{str(target).lstrip('/')}"}}
        """)
    assert code == 1 and not target.exists()


def test_f2_host_path_volumes_need_permission(tmp_path: Path) -> None:
    host = tmp_path / "host"
    host.mkdir()
    manifest = f"""\
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {{name: hp}}
        spec:
          entrypoint: main
          volumes:
          - {{name: h, hostPath: {{path: {host}}}}}
          templates:
          - name: main
            container:
              image: alpine
              command: [sh, -c, "echo hi > /mnt/h/x"]
              volumeMounts: [{{name: h, mountPath: /mnt/h}}]
        """
    code, _ = _run(tmp_path / "refused", manifest)
    assert code == 2 and not (host / "x").exists()
    code, _ = _run(tmp_path / "allowed", manifest, "--allow-host-path")
    assert code == 0 and (host / "x").read_text() == "hi\n"


def test_relative_paths_are_the_containers_own(tmp_path: Path) -> None:
    """A relative output path is relative to workingDir inside the container, as the runtime would take it."""
    code, report = _run(tmp_path, """\
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {name: relok}
        spec:
          entrypoint: main
          templates:
          - name: main
            container: {image: alpine, command: [sh, -c, "echo v > out.txt"], workingDir: /work}
            outputs:
              parameters:
              - {name: p, valueFrom: {path: out.txt}}
        """)
    assert code == 0
    assert report["entrypoint"]["outputs"]["parameters"]["p"] == "v"


# --- F5: no credential is copied into a manifest -------------------------------------------------------------

# Every literal credential of the two reproductions (FINDINGS F5), as it appears in the DAG files.
_LITERALS = {
    "secrets_literal.py": ["S3cr3tPassw0rd", "ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123", "AKIAIOSFODNN7EXAMPLE",
                           "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "hunter2hunter2", "p@ss", "abc-api-key-777",
                           "user:pw999", "DefaultArgsPw999", "abc123", "RootPw4242", "AdminPw777", "KpoSecret123",
                           "KpoPw", "ArgPw555", "DockerPw321", "HttpBearerTok99", "HttpBodyPw", "RedisPw", "AmqpPw",
                           "MIIEabc", "TaskflowLiteralPw"],
    "secrets_env_bypass.py": ["EmptyUserPw1", "JdbcPw2", "Sl/ashPw3", "MongoPw4", "HttpsPw5", "SshKeyValue6",
                              "FernetKey7=", "EncKey8", "JwtPayload9", "SignKey10", "DsnPw11", "PwdVal12", "Pw13",
                              "SpacePw14", "PgPw15", "CookieVal16"],
}


@pytest.mark.parametrize("name", sorted(_LITERALS))
def test_f5_literal_credentials_become_secret_references(tmp_path: Path, name: str) -> None:
    code, written, report = _migrate(tmp_path, REPROS / name, name)
    assert written, "the workflow is written"
    leaked = [s for s in _LITERALS[name] if s in written]
    assert leaked == []
    assert "secretKeyRef" in written and "argo-migrate-credentials" in written
    assert _codes(report).count("AM121") >= 10
    assert "HttpBodyPw" not in json.dumps(report)


def test_f5_names_are_judged_word_by_word(tmp_path: Path) -> None:
    _, written, report = _migrate(tmp_path, """\
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.bash import BashOperator
        with DAG(dag_id="words", schedule=None):
            BashOperator(task_id="a", bash_command="train",
                         env={"AUTHOR": "Ada Lovelace", "TOKENIZER_MODEL": "bert-base", "PGPASSWORD": "pg-pw-1"})
        """)
    assert "Ada Lovelace" in written and "bert-base" in written
    assert "pg-pw-1" not in written
    assert _codes(report).count("AM121") == 1


def test_f5_secret_variables_come_from_a_secret(tmp_path: Path) -> None:
    _, written, report = _migrate(tmp_path, """\
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.bash import BashOperator
        with DAG(dag_id="vars", schedule=None):
            BashOperator(task_id="a", bash_command="run {{ var.value.db_password }} {{ var.value.region }}")
        """)
    assert "airflow-secret-variables" in written and "var_db_password" not in written
    assert "var_region" in written  # an ordinary Variable stays a ConfigMap-fed parameter
    assert "AM121" in _codes(report)


def test_f5_no_credential_no_warning(tmp_path: Path) -> None:
    """The detector stays quiet on ordinary commands (a false positive would hide a value the task needs)."""
    _, written, report = _migrate(tmp_path, """\
        from airflow.sdk import DAG
        from airflow.providers.standard.operators.bash import BashOperator
        with DAG(dag_id="plain", schedule=None):
            BashOperator(task_id="a", bash_command="curl -s https://example.com/api?page=2 | jq .items > out.json",
                         env={"REGION": "eu-west-1", "SORT_KEY": "created_at"})
        """)
    assert "AM121" not in _codes(report)
    assert "eu-west-1" in written and "created_at" in written


# --- F4: deep nesting is a diagnostic, never a crash of the batch -----------------------------------------------


@pytest.mark.parametrize("source", [
    (REPROS / "parens_segv.py").read_text(),
    "X = " + "[" * 5000 + "]" * 5000 + "\n",
    "X = " + "f(" * 3000 + "1" + ")" * 3000 + "\n",
    "from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.empty import EmptyOperator\n"
    "with DAG(dag_id='c', schedule=None):\n"
    + "".join(f"    t{i} = EmptyOperator(task_id='t{i}')\n" for i in range(20000))
    + "    " + " >> ".join(f"t{i}" for i in range(20000)) + "\n",
], ids=["parens-2000", "lists-5000", "calls-3000", "chain-20000"])
def test_f4_deep_nesting_is_am100_and_the_batch_goes_on(tmp_path: Path, source: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "m_nested.py").write_text(source)
    status, stderr, report = _batch_beside_a_good_file(tmp_path, folder, timeout=300)
    assert status == 1, (status, stderr[-2000:])  # not 139 (SIGSEGV)
    assert "AM100" in _codes(report)


# --- F9, F16: file names that are not UTF-8, or hold control characters --------------------------------------


def test_f9_f16_odd_file_names_are_shown_escaped_and_the_report_is_written(tmp_path: Path) -> None:
    folder = tmp_path / "names"
    folder.mkdir()
    good = "from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.bash import BashOperator\n" \
           "with DAG(dag_id='{0}', schedule=None):\n    BashOperator(task_id='a', bash_command='echo ok')\n"
    (folder / b"\xff\xfe_latin.py".decode("utf-8", "surrogateescape")).write_text(good.format("latin"))
    (folder / "nl2\nx.py:1:1: error AM100: forged.py").write_text("def broken(:\n")
    (folder / "\x1b[31mred.py").write_text(good.format("red"))
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "migrator.cli", "airflow", str(folder), "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr[-2000:]  # the broken file is an error; no traceback
    assert "Traceback" not in done.stderr
    report = json.loads((out / "migration-report.json").read_text())
    assert (out / "latin.yaml").exists() and (out / "red.yaml").exists()
    assert "\x1b" not in done.stdout + done.stderr
    # Every diagnostic line starts with a path that has no newline: nothing is forged.
    assert all(line.startswith(str(folder)) for line in done.stderr.splitlines() if line.strip())
    assert any("\ufffd" in f["path"] for f in report["files"])


# --- F6, F14: valid input never gets an internal error, and YAML 1.1 words keep their type ---------------------


@pytest.mark.parametrize("name, code", [
    ("am901_empty_image.py", "AM115"), ("am901_http_datetime.py", "AM103"), ("am903_cron6.py", "AM108"),
    ("am903_surrogate.py", "AM103"), ("am903_shortcircuit_always.py", None), ("am903_leading_tab.py", None),
    ("yaml_bool.py", None), ("yaml_bool_task.py", None),
])
def test_f6_f14_valid_input_is_migrated_without_internal_errors(tmp_path: Path, name: str, code: str | None) -> None:
    import yaml

    status, written, report = _migrate(tmp_path, REPROS / name, name)
    codes = _codes(report)
    assert not [c for c in codes if c.startswith("AM9")], codes
    assert status == 0 and written
    if code:
        assert code in codes
    for path in (tmp_path / "out").glob("*.yaml"):
        assert main(["lint", str(path)]) == 0
        # Every scalar that was a string stays one for a YAML 1.1 reader (PyYAML's, like kubectl's).
        text = path.read_text()
        for word in ("yes", "no", "on", "off", "12:30", "y", "n"):
            assert f": {word}\n" not in text and f"- {word}\n" not in text
        yaml.safe_load_all(text)


# --- F10, F18: interrupting a run leaves nothing behind and prints no traceback ----------------------------------


def _alive(marker: str) -> list[str]:
    done = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True)
    return [line for line in done.stdout.splitlines() if marker in line and "ps -eo" not in line]


@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_f10_an_interrupted_local_run_kills_every_step(tmp_path: Path, sig: int, status: int) -> None:
    marker = f"sleep 30{sig:02d}"
    manifest = tmp_path / "sigint.yaml"
    manifest.write_text((REPROS / "run_sigint.yaml").read_text().replace("sleep 3001", marker))
    child = subprocess.Popen([sys.executable, "-m", "migrator.cli", "run", "--local", str(manifest), "--workdir",
                              str(tmp_path / "run")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(_alive(marker)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(_alive(marker)) == 2, "both steps started"
    child.send_signal(sig)
    _, stderr = child.communicate(timeout=60)
    time.sleep(0.5)
    assert _alive(marker) == []
    assert child.returncode == status and "Traceback" not in stderr, stderr[-2000:]


def test_f18_ctrl_c_during_a_migration_prints_no_traceback(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(300):
        (folder / f"d{i}.py").write_text(
            "from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.bash import BashOperator\n"
            f"with DAG(dag_id='d{i}', schedule=None):\n    BashOperator(task_id='a', bash_command='echo {i}')\n")
    child = subprocess.Popen([sys.executable, "-m", "migrator.cli", "airflow", str(folder), "-o", str(tmp_path / "o"),
                              "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any((tmp_path / "o").glob("*.yaml")) and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    assert "Traceback" not in stderr, stderr[-2000:]
    assert child.returncode in (0, 130)  # 0 when the batch had already finished
    assert not list((tmp_path / "o").glob("*.tmp*"))


def test_f10_a_handler_that_outlives_its_deadline_is_killed_with_its_children(tmp_path: Path) -> None:
    manifest = tmp_path / "res.yaml"
    manifest.write_text(textwrap.dedent("""\
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {name: res}
        spec:
          entrypoint: main
          templates:
          - name: main
            resource: {action: create, manifest: "{}"}
        """))
    code = main(["run", "--local", str(manifest), "--workdir", str(tmp_path / "run"), "--timeout", "3", "--quiet",
                 "--handler", "resource=sh -c 'sleep 4101 & sleep 4102'"])
    time.sleep(0.5)
    assert code == 1
    assert _alive("sleep 410") == []


# --- F15: a named pipe or a device among the inputs is not read (it would hang or never end) ---------------------


def test_f15_pipes_and_devices_are_refused_not_read(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    os.mkfifo(folder / "fifo.py")
    (folder / "zero.py").symlink_to("/dev/zero")
    status, stderr, report = _batch_beside_a_good_file(tmp_path, folder, timeout=120)
    assert status == 1 and "Traceback" not in stderr
    refused = [f["path"] for f in report["files"] if any(d["code"] == "AM002" for d in f["diagnostics"])]
    assert sorted(Path(p).name for p in refused) == ["fifo.py", "zero.py"]
