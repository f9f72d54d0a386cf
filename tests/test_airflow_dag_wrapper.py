"""The per-DAG integration wrapper's script against a fake Airflow REST API on loopback (v1 and v2).

The fake follows Airflow's documented endpoints: POST /api/{v}/dags/{id}/dagRuns, GET .../dagRuns/{run}, PATCH
.../dagRuns/{run} with {"state": "failed"}, and POST /auth/token for API v2's token.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from backends.wrappers import WrapperOptions
from backends.wrappers.airflow_dag import build
from migrator.ir import Wrapped


class FakeAirflow:
    def __init__(self, final_state: str, polls_before_end: int = 1) -> None:
        self.final_state = final_state
        self.polls_before_end = polls_before_end
        self.requests: list[tuple[str, str, dict, str]] = []
        self.state = "queued"
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, payload: dict) -> None:
                body = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _record(self) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}") if length else {}
                fake.requests.append((self.command, self.path, body, self.headers.get("Authorization", "")))
                return body

            def do_POST(self) -> None:  # noqa: N802
                self._record()
                if self.path == "/auth/token":
                    self._reply({"access_token": "jwt-123"})
                else:
                    fake.state = "running"
                    self._reply({"dag_run_id": "manual__1", "state": "queued"})

            def do_GET(self) -> None:  # noqa: N802
                self._record()
                gets = sum(1 for r in fake.requests if r[0] == "GET")
                if gets > fake.polls_before_end and fake.state == "running":
                    fake.state = fake.final_state
                self._reply({"state": fake.state})

            def do_PATCH(self) -> None:  # noqa: N802
                body = self._record()
                fake.state = body.get("state", fake.state)
                self._reply({"state": fake.state})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def start(api: str, fake: FakeAirflow, **secret: str) -> subprocess.Popen[str]:
    spec = build(Wrapped("airflow-dag", (("dag_id", "etl"), ("api", api))), WrapperOptions())
    assert spec.command == ("python", "-c")
    env = {**os.environ, **dict(spec.env), "AM_DAG_RUN_CONF": '{"day": "2024-01-01"}', "AM_POLL_SECONDS": "0",
           "AIRFLOW_URL": fake.url, **secret}
    return subprocess.Popen([sys.executable, "-c", spec.args[0]], env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


@pytest.fixture
def fake(request):
    server = FakeAirflow(*request.param)
    yield server
    server.close()


@pytest.mark.parametrize("fake", [("success",)], indirect=True)
def test_v2_gets_a_token_triggers_with_conf_and_succeeds(fake: FakeAirflow) -> None:
    proc = start("v2", fake, AIRFLOW_USERNAME="admin", AIRFLOW_PASSWORD="pw")
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    token, trigger = fake.requests[0], fake.requests[1]
    assert token[:2] == ("POST", "/auth/token") and token[2] == {"username": "admin", "password": "pw"}
    assert trigger[:2] == ("POST", "/api/v2/dags/etl/dagRuns")
    assert trigger[2] == {"conf": {"day": "2024-01-01"}, "logical_date": None}
    assert trigger[3] == "Bearer jwt-123"
    assert any(r[:2] == ("GET", "/api/v2/dags/etl/dagRuns/manual__1") for r in fake.requests)


@pytest.mark.parametrize("fake", [("failed",)], indirect=True)
def test_v1_uses_basic_auth_and_mirrors_a_failure(fake: FakeAirflow) -> None:
    proc = start("v1", fake, AIRFLOW_USERNAME="admin", AIRFLOW_PASSWORD="pw")
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1, out
    trigger = fake.requests[0]
    assert trigger[:2] == ("POST", "/api/v1/dags/etl/dagRuns") and trigger[2] == {"conf": {"day": "2024-01-01"}}
    assert trigger[3] == "Basic " + base64.b64encode(b"admin:pw").decode()


@pytest.mark.parametrize("fake", [("success", 10_000)], indirect=True)
def test_stopping_the_step_fails_the_airflow_run(fake: FakeAirflow) -> None:
    proc = start("v2", fake, AIRFLOW_TOKEN="static-token")
    deadline = time.monotonic() + 20
    while not any(r[0] == "GET" for r in fake.requests) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 143, out
    assert ("PATCH", "/api/v2/dags/etl/dagRuns/manual__1", {"state": "failed"}, "Bearer static-token") in fake.requests
