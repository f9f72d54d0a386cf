"""argo-migrate airflow-task runner: one Airflow task's operator in a pod, without scheduler or metadata database.

Runs with the Python and the Airflow of the image (Airflow 2.10+ or 3.x); it imports nothing of argo-migrate.
Everything comes from environment variables (the WorkflowTemplate maps its input parameters onto them):

  AM_DAGS_FOLDER   the DAG folder (default /opt/airflow/dags); importable, so helpers beside the DAG import
  AM_DAG_FILE      the DAG file, relative to the folder ("" parses the whole folder)
  AM_DAG_ID, AM_TASK_ID, AM_MAP_INDEX (-1: not mapped)
  AM_MAP_ITEM      instead of a map index: the item (JSON) of a task mapped over one argument (or expand_kwargs);
                   the index is that of the item's first occurrence among the values mapped over
  AM_LOGICAL_DATE  ISO 8601 ("": AM_WORKFLOW_CREATED, the workflow's creation time; else now)
  AM_RUN_TYPE      "manual" (the date is the logical date) or "scheduled" (the date is when the run was due, as a
                   CronWorkflow's scheduledTime: the logical date and the data interval follow from the DAG's
                   timetable, as the scheduler computes them)
  AM_RUN_ID        ("" is Airflow's own "<run type>__<logical date>")
  AM_PARAMS        JSON object: values for the DAG's params; AM_DAG_RUN_CONF: JSON object, ``dag_run.conf``
  AM_XCOM          JSON: {"<task_id>": {"<key>": <value>}}, or for a mapped upstream a list (one entry per map
                   index, each such an object, its JSON text, or null)
  AM_TRY_NUMBER    the try ("": 1 + AM_RETRY, Argo's retry count); while the task's retries are not used up, a
                   failure is Airflow's up_for_retry: on_retry_callback runs and the exit status is 3
  AM_OUTPUTS       folder of the output files (default /tmp/argo-migrate): return_value, xcom, skipped, skip-tasks
  AM_KILL_GRACE_SECONDS  how long a stopped task may take to end before it is killed (10)
  AM_SCRATCH       folder of the metadata database nothing may use (default: a new temporary folder)

This process never imports Airflow: it starts itself again as the task process (its own process group), passes
the output through, masking secrets (the values of AIRFLOW_CONN_* variables, their passwords, of variables whose
names Airflow deems sensitive, and of every value the task masks with ``mask_secret``), and on SIGTERM (Argo's stop)
forwards it once, as Airflow's supervisor does (the operator's ``on_kill`` runs), then kills the task process
when it outlives the grace period. Exit status: 0 success or skipped, 1 failed, 3 failed with a retry due, 143
stopped.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

OUTPUT_FILES = {"return_value": "null", "xcom": "{}", "skipped": "false", "skip-tasks": "[]"}
MASK_MARK = "\x00argo-migrate-mask:"  # a line the task process writes to have a value masked from then on
# The task's end as the exit status: 3 is Airflow's up_for_retry (the WorkflowTemplate retries only on it, so an
# AirflowFailException or the last try is not retried); a stop is 143.
EXIT_CODES = {"success": 0, "skipped": 0, "failed": 1, "up_for_retry": 3}
MIN_MASKED = 5  # Airflow's default min_length_masked_secret: shorter values would garble every log line
GRACE_S = float(os.environ.get("AM_KILL_GRACE_SECONDS", "10"))
# Airflow's default core.sensitive_var_conn_names: a variable whose name holds one of these is a secret.
SENSITIVE = ("access_token", "api_key", "apikey", "authorization", "passphrase", "passwd", "password",
             "private_key", "secret", "token", "keyfile_dict", "service_account")


def env(name: str, default: str = "") -> str:
    value = os.environ.get(name, "")
    return value if value.strip() else default


# --- the supervising process --------------------------------------------------------------------------------


def secrets_of_environment() -> set[str]:
    found: set[str] = set()
    for name, value in os.environ.items():
        if not value:
            continue
        lowered = name.lower()
        if name.startswith("AIRFLOW_CONN_"):
            found.add(value)
            found.update(_connection_secrets(value))
        elif any(word in lowered for word in SENSITIVE):
            found.add(value)
    return {s for s in found if len(s) >= MIN_MASKED}


def _connection_secrets(value: str) -> set[str]:
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        out = {str(parsed.get("password") or "")}
        extra = parsed.get("extra")
        if extra:
            out.add(extra if isinstance(extra, str) else json.dumps(extra))
        return out
    try:
        password = urlsplit(value).password or ""
    except ValueError:
        return set()
    return {password, unquote(password)}


class Masker:
    def __init__(self, secrets: set[str]) -> None:
        self.secrets = set(secrets)
        self.lock = threading.Lock()

    def add(self, value: Any) -> None:
        if isinstance(value, str) and len(value) >= MIN_MASKED:
            with self.lock:
                self.secrets.update({value, quote(value, safe="")})

    def __call__(self, line: str) -> str:
        with self.lock:
            secrets = sorted(self.secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in line:
                line = line.replace(secret, "***")
        return line


_STOP = threading.Event()  # set by SIGTERM/SIGINT: the step is stopped, no further try starts


def _state_store_path() -> str:
    return os.path.join(env("AM_OUTPUTS", "/tmp/argo-migrate"), "task-state-store.json")


def _load_state_store() -> dict[str, Any]:
    try:
        with open(_state_store_path(), encoding="utf-8") as handle:
            loaded = json.load(handle)
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _save_state_store(store: dict[str, Any]) -> None:
    path = _state_store_path()
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(store, handle)
    os.replace(path + ".tmp", path)


def supervise() -> int:
    """Run the task process; when it fails with a retry due (exit 3) after using the task state store, run the
    retry here, in the same pod, where the store's file is: a retry by Argo would be a new pod and an empty store
    (Airflow keeps the store in its database). Other retries are Argo's."""
    try_number = int(env("AM_TRY_NUMBER") or (int(env("AM_RETRY", "0") or 0) + 1))
    while True:
        code = _supervise_once(try_number)
        if code != 3 or not os.path.exists(_state_store_path()):
            return code
        delay = float(env("AM_RETRY_DELAY", "0") or 0)
        print(f"argo-migrate: the task uses the task state store: try {try_number + 1} runs in this pod after "
              f"{delay:g} s", flush=True)
        if _STOP.wait(delay):
            return 143
        try_number += 1


def _supervise_once(try_number: int) -> int:
    outputs = env("AM_OUTPUTS", "/tmp/argo-migrate")
    os.makedirs(outputs, exist_ok=True)
    for name, default in OUTPUT_FILES.items():  # a task that dies early still leaves well-formed outputs
        with open(os.path.join(outputs, name), "w", encoding="utf-8") as handle:
            handle.write(default)
    masker = Masker(secrets_of_environment())
    child_env = dict(os.environ, PYTHONUNBUFFERED="1", AM_TASK_PROCESS="1", AM_TRY_NUMBER=str(try_number))
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__)], env=child_env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    stopped = _STOP
    # The handler only sets an event: printing from it could re-enter the stdout buffer this thread is writing.
    threading.Thread(target=_stop_on_request, args=(proc, stopped), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stopped.set())
    signal.signal(signal.SIGINT, lambda _signum, _frame: stopped.set())
    assert proc.stdout is not None
    out = sys.stdout.buffer
    for raw in iter(proc.stdout.readline, b""):
        line = raw.decode("utf-8", errors="replace")
        if line.startswith(MASK_MARK):
            try:
                masker.add(json.loads(line[len(MASK_MARK):]))
            except ValueError:
                pass
            continue
        out.write(masker(line).encode("utf-8"))
        out.flush()
    code = proc.wait()
    if stopped.is_set():
        return 143
    return code if code >= 0 else 128 - code


def _stop_on_request(proc: subprocess.Popen[bytes], stopped: threading.Event) -> None:
    """Once stopped: SIGTERM to the task process (once, as Airflow's supervisor sends it), and SIGKILL to its
    process group when it outlives the grace period."""
    stopped.wait()
    print("argo-migrate: stop requested: SIGTERM to the task (its operator's on_kill runs)", flush=True)
    try:
        proc.send_signal(signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=GRACE_S)
    except subprocess.TimeoutExpired:
        print("argo-migrate: the task outlived the grace period: killed", flush=True)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


# --- the task process: common part --------------------------------------------------------------------------


INDEX = "argo-migrate-index.json"


def unpack_dags(folder: str) -> str:
    """The DAG folder as Airflow would see it. argo-migrate ships it as a ConfigMap, whose keys cannot hold folders:
    each file under a flat key, and ``argo-migrate-index.json`` mapping keys to paths relative to the DAG folder
    (``utils/db.py``). Such a folder is rebuilt in a private temporary folder; any other is used as it is."""
    index_path = os.path.join(folder, INDEX)
    if not os.path.isfile(index_path):
        return folder
    with open(index_path, encoding="utf-8") as handle:
        index = json.load(handle)
    target = tempfile.mkdtemp(prefix="argo-migrate-dags-")
    for key, relative in sorted(index.items()):
        parts = [p for p in str(relative).split("/") if p]
        if not parts or any(p in (".", "..") for p in parts) or os.sep in key or key.startswith("."):
            raise ValueError(f"{INDEX}: entry {key!r} -> {relative!r} is not a plain relative path")
        destination = os.path.join(target, *parts)
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        with open(os.path.join(folder, key), "rb") as source, open(destination, "wb") as out:
            out.write(source.read())
    return target


class Run:
    """What the task process was asked to run, and what it produced."""

    def __init__(self) -> None:
        self.folder = unpack_dags(env("AM_DAGS_FOLDER", "/opt/airflow/dags"))
        self.file = env("AM_DAG_FILE")
        self.dag_id = env("AM_DAG_ID")
        self.task_id = env("AM_TASK_ID")
        self.map_index = int(env("AM_MAP_INDEX", "-1"))
        self.map_item = env("AM_MAP_ITEM")
        self.logical_date_text = env("AM_LOGICAL_DATE") or env("AM_WORKFLOW_CREATED")
        self.run_type = env("AM_RUN_TYPE", "manual")
        self.run_id = env("AM_RUN_ID")
        self.params = _params(env("AM_PARAMS", "{}"))
        self.conf = _json_object("AM_DAG_RUN_CONF")
        retry = env("AM_RETRY", "0")  # Argo's retry count (the retries variable): 0 at first
        self.try_number = int(env("AM_TRY_NUMBER") or (int(retry) + 1 if retry.isdigit() else 1))
        self.outputs = env("AM_OUTPUTS", "/tmp/argo-migrate")
        if self.run_type not in ("manual", "scheduled"):
            raise ValueError(f"run type {self.run_type!r}: expected manual or scheduled")
        # (task_id, key, map_index) -> the XCom as Airflow stores it (JSON, the XCom backend's serialised form)
        self.store: dict[tuple[str, str, int], Any] = _xcom_store(env("AM_XCOM", "{}"))
        self.pushed: dict[str, Any] = {}
        self.skip_tasks: list[str] = []
        self.state = "failed"

    def push(self, task_id: str, key: str, map_index: int | None, value: Any) -> None:
        index = -1 if map_index is None else map_index
        self.store[(task_id, key, index)] = value
        if task_id == self.task_id and index == self.map_index:
            self.pushed[key] = value

    def delete(self, task_id: str, key: str, map_index: int | None) -> None:
        index = -1 if map_index is None else map_index
        self.store.pop((task_id, key, index), None)
        if task_id == self.task_id and index == self.map_index:
            self.pushed.pop(key, None)

    def rows(self, task_id: str, key: str) -> list[tuple[int, Any]]:
        """The XComs of one task and key, by map index (as Airflow's XCom table orders them)."""
        return sorted((i, v) for (t, k, i), v in self.store.items() if t == task_id and k == key)

    def skip(self, tasks: Any) -> None:
        for item in tasks or []:
            task_id = item[0] if isinstance(item, (tuple, list)) else item
            if str(task_id) not in self.skip_tasks:
                self.skip_tasks.append(str(task_id))

    def write_outputs(self) -> None:
        values = {
            "return_value": json.dumps(self.pushed.get("return_value")),
            "xcom": json.dumps(self.pushed),
            "skipped": "true" if self.state == "skipped" else "false",
            "skip-tasks": json.dumps(self.skip_tasks),
        }
        os.makedirs(self.outputs, exist_ok=True)
        for name, text in values.items():
            with open(os.path.join(self.outputs, name), "w", encoding="utf-8") as handle:
                handle.write(text)


def _params(text: str) -> dict[str, Any]:
    """A JSON object of param values, or the JSON list of Argo's workflow parameters (workflow.parameters.json):
    ``[{name, value}]`` whose values are text, decoded against the DAG's params when the DAG is loaded
    (see :func:`_typed`)."""
    value = json.loads(text or "{}")
    if isinstance(value, list):
        return {str(p["name"]): _Text(str(p.get("value", ""))) for p in value if isinstance(p, dict) and "name" in p}
    if not isinstance(value, dict):
        raise ValueError(f"AM_PARAMS must be a JSON object or a list of name/value objects, not "
                         f"{type(value).__name__}")
    return value


class _Text(str):
    """A param value that came as text from a workflow parameter: its type is the DAG param's."""


def _typed(values: dict[str, Any], declared: Any) -> dict[str, Any]:
    """Values for the DAG's params only (a workflow has other parameters too); text decoded as JSON where the
    param's default is not a string, as Airflow keeps a param's value typed."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if not isinstance(value, _Text):
            out[name] = value
            continue
        if name not in declared:
            continue
        current = declared.get_param(name).value if hasattr(declared, "get_param") else declared.get(name)
        if isinstance(current, str):
            out[name] = str(value)
            continue
        try:
            out[name] = json.loads(value)
        except ValueError:
            out[name] = str(value)
    return out


def _json_object(name: str) -> dict[str, Any]:
    value = json.loads(env(name, "{}"))
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a JSON object, not {type(value).__name__}")
    return value


def _xcom_store(text: str) -> dict[tuple[str, str, int], Any]:
    given = json.loads(text)
    if not isinstance(given, dict):
        raise ValueError("the xcom parameter must be a JSON object {task_id: {key: value}}")
    # Upstreams with multiple_outputs: Airflow pushes each key of the returned dict as an XCom of its own too.
    for task_id in given.pop("__multiple_outputs__", None) or []:
        entry = given.get(task_id)
        entries = entry if isinstance(entry, list) else [entry]
        for one in entries:
            if not isinstance(one, dict):
                continue
            returned = one.get("return_value")
            if isinstance(returned, dict):
                for key, value in returned.items():
                    one.setdefault(str(key), value)
    store: dict[tuple[str, str, int], Any] = {}
    for task_id, entry in given.items():
        if isinstance(entry, list):  # a mapped upstream: one entry per map index
            for index, item in enumerate(entry):
                item = json.loads(item) if isinstance(item, str) else item
                if item is None:
                    continue  # that index pushed nothing (skipped, or returned None)
                if not isinstance(item, dict):
                    raise ValueError(f"xcom of {task_id}[{index}]: expected an object of keys")
                store.update({(task_id, str(k), index): v for k, v in item.items()})
        elif isinstance(entry, dict):
            store.update({(task_id, str(k), -1): v for k, v in entry.items()})
        elif entry is not None:
            raise ValueError(f"xcom of {task_id}: expected an object of keys or a list of them")
    return store


def announce_mask(value: Any, name: str | None = None) -> None:
    """Tell the supervising process to mask ``value`` in everything printed from now on, by Airflow's rule: a value
    with no name, or whose name is sensitive (a dict's values are named by their keys)."""
    if isinstance(value, dict):
        for key, item in value.items():
            announce_mask(item, str(key))
        return
    if isinstance(value, (list, tuple, set)):
        for item in value:
            announce_mask(item, name)
        return
    if not isinstance(value, str) or len(value) < MIN_MASKED or value.lower() == "airflow":
        return
    if name and not _sensitive_name(name):
        return
    sys.stdout.flush()
    os.write(1, (MASK_MARK + json.dumps(value) + "\n").encode("utf-8"))


def _sensitive_name(name: str) -> bool:
    for module in ("airflow.sdk._shared.secrets_masker.secrets_masker", "airflow.utils.log.secrets_masker"):
        try:
            return bool(__import__(module, fromlist=["_"]).should_hide_value_for_key(name))
        except (ImportError, AttributeError):
            continue
    return any(word in name.lower() for word in SENSITIVE)


def prepare_airflow_environment(run: Run) -> str:
    """Airflow's configuration for a scheduler-less run; returns the path of the database nothing may create."""
    scratch = env("AM_SCRATCH") or tempfile.mkdtemp(prefix="argo-migrate-airflow-")
    database = os.path.join(scratch, "unused-metadata.db")
    # SQLAlchemy's URL of a file is "sqlite:", three slashes, then the absolute path; chr(47) is the slash, spelled
    # so because `argo-migrate run --local` rewrites a lone slash in a script's source as the container's root.
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = "sqlite:" + chr(47) * 3 + os.path.abspath(database)
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = run.folder
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    # The DAG's folder first on sys.path, as Airflow puts the DAGs folder: helpers beside the DAG import.
    for folder in dict.fromkeys([os.path.dirname(os.path.join(run.folder, run.file or ".")), run.folder]):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    return database


def load_task(run: Run) -> tuple[Any, Any]:
    path = os.path.join(run.folder, run.file) if run.file else run.folder
    try:
        from airflow.dag_processing.dagbag import BundleDagBag  # Airflow 3: the DAG folder is the bundle

        bag = BundleDagBag(dag_folder=path, bundle_path=Path(run.folder), safe_mode=False, load_op_links=False)
    except ImportError:
        from airflow.models.dagbag import DagBag

        bag = DagBag(dag_folder=path, include_examples=False, safe_mode=False, read_dags_from_db=False,
                     load_op_links=False)
    if bag.import_errors:
        for file, error in bag.import_errors.items():
            print(f"argo-migrate: import error in {file}:\n{error}", file=sys.stderr, flush=True)
    dag = bag.dags.get(run.dag_id)
    if dag is None:
        raise LookupError(f"DAG {run.dag_id!r} not found in {path} (found: {sorted(bag.dags)})")
    if run.task_id not in dag.task_dict:
        raise LookupError(f"task {run.task_id!r} not found in DAG {run.dag_id!r}")
    task = dag.task_dict[run.task_id]
    partial = getattr(task, "partial_kwargs", None)
    mode = partial.get("mode") if isinstance(partial, dict) else getattr(task, "mode", None)
    if mode == "reschedule":
        # Rescheduling frees a worker slot between pokes and needs the scheduler; this pod is the task's own, so
        # the sensor pokes in place, at the same interval and with the same timeout.
        print("argo-migrate: the sensor's reschedule mode becomes poke mode in this pod", flush=True)
        if isinstance(partial, dict):
            partial["mode"] = "poke"
        else:
            task.mode = "poke"
    params = _typed(run.params, dag.params)
    if params:
        # The caller's values replace the defaults of the DAG's params (validated against their schemas as the
        # run starts); dag_run.conf still overrides them, as it does in Airflow.
        dag.params.update(params)
        if getattr(task, "params", None) is not None:
            task.params.update(params)
    return dag, task


def run_dates(run: Run, timetable: Any, airflow3: bool) -> tuple[Any, Any, Any, Any]:
    """(logical date, data interval start, end, run_after) as Airflow computes them for this run; names the run
    as Airflow would (Airflow 3 after run_after, Airflow 2 after the logical date) unless the caller named it."""
    import pendulum

    when = pendulum.parse(run.logical_date_text) if run.logical_date_text else pendulum.now("UTC")
    when = pendulum.instance(when, tz="UTC") if getattr(when, "tzinfo", None) is None else when
    when = when.in_timezone("UTC")
    try:
        interval = timetable.infer_manual_data_interval(run_after=when)
        start, end = interval.start, interval.end
    except (AttributeError, NotImplementedError, TypeError):
        start = end = when
    # A scheduled run's logical date is the start of the interval that ends when it is due (for Airflow 3's
    # default trigger timetable the interval is the instant itself); a manual run's is the date given.
    logical = start if run.run_type == "scheduled" else when
    if not run.run_id:
        run.run_id = f"{run.run_type}__{(when if airflow3 else logical).isoformat()}"
    return logical, start, end, when


def index_of_item(run: Run, task: Any, item: Any) -> int:
    """The map index of ``item`` in what ``task`` maps over: one argument's values (``.expand(x=…)``) or the
    dicts of ``.expand_kwargs(…)``, literal or an upstream's XCom."""
    getter = getattr(task, "_get_specified_expand_input", None)
    expand_input = getter() if getter else getattr(task, "expand_input", None)
    source = getattr(expand_input, "value", None)
    if isinstance(source, dict):
        if len(source) != 1:
            raise ValueError(f"map-item: {run.task_id} maps over {len(source)} arguments; give map-index")
        source = next(iter(source.values()))
    candidates = _mapped_values(run, source)
    normal = [json.loads(json.dumps(c, default=str)) for c in candidates]
    if item not in normal:
        raise LookupError(f"map-item {json.dumps(item)} is not among the {len(normal)} values "
                          f"{run.task_id} maps over")
    return normal.index(item)


def _mapped_values(run: Run, source: Any) -> list[Any]:
    if isinstance(source, (list, tuple)):
        return list(source)
    if isinstance(source, dict):
        return [[k, v] for k, v in source.items()]  # Airflow maps over a dict's (key, value) pairs
    operator, key = getattr(source, "operator", None), getattr(source, "key", "return_value")
    if type(source).__name__ != "PlainXComArg" or operator is None:
        raise ValueError(f"map-item: {run.task_id} maps over {type(source).__name__}; give map-index")
    rows = run.rows(operator.task_id, key)
    if any(index >= 0 for index, _ in rows):  # a mapped upstream: one value per map index
        return [value for index, value in rows if index >= 0]
    value = dict(rows).get(-1)
    if isinstance(value, (list, dict)):
        return _mapped_values(run, value)
    raise LookupError(f"map-item: no list in the xcom of {operator.task_id} ({key}) to find it in")


def main_task_process() -> int:
    route_sigterm_through_a_thread()
    return execute(Run())


def route_sigterm_through_a_thread() -> None:
    """Run the SIGTERM handler Airflow installs (the operator's ``on_kill``) in a helper thread.

    Airflow's handler logs; called in the main thread, the signal can land while the main thread holds the logging
    or stdout lock (a task logging its command's output line by line), and the handler then waits on that lock
    forever. Here the handler Airflow installs is queued (``SimpleQueue.put`` is safe in a signal handler) and
    called by a thread that waits for the lock like any other; an exception it raises to end the task (Airflow
    2's AirflowTaskTerminated) is raised in the main thread, where Airflow raises it.
    """
    import ctypes
    import queue

    calls: queue.SimpleQueue[tuple[Any, int]] = queue.SimpleQueue()
    install = signal.signal
    main = threading.main_thread().ident

    def call_handlers() -> None:
        while True:
            handler, signum = calls.get()
            try:
                handler(signum, None)
            except BaseException as error:  # noqa: BLE001 - delivered to the main thread, as the signal would be
                if main is not None:
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(main), ctypes.py_object(type(error)))

    threading.Thread(target=call_handlers, name="argo-migrate-sigterm", daemon=True).start()

    def patched(signum: Any, handler: Any) -> Any:
        if signum == signal.SIGTERM and callable(handler):
            return install(signum, lambda number, _frame: calls.put((handler, number)))
        return install(signum, handler)

    signal.signal = patched  # type: ignore[assignment]


def execute(run: Run) -> int:
    """Run the task; write its outputs; the exit status (0: success or skipped)."""
    database = prepare_airflow_environment(run)
    import airflow

    major = int(airflow.__version__.split(".")[0])
    print(f"argo-migrate: Airflow {airflow.__version__}: {run.dag_id}.{run.task_id}"
          f"{f'[{run.map_index}]' if run.map_index >= 0 else ''}", flush=True)
    try:
        dag, task = load_task(run)
        if run.map_index < 0 and run.map_item:
            run.map_index = index_of_item(run, task, json.loads(run.map_item))
            print(f"argo-migrate: map item {run.map_item} is map index {run.map_index}", flush=True)
        if major >= 3:
            run_airflow3(run, dag, task)
        else:
            run_airflow2(run, dag, task)
    except Exception:  # noqa: BLE001 - anything that stops the task before Airflow handles it fails the step
        traceback.print_exc()
        run.state = "failed"
    run.write_outputs()
    if os.path.exists(database):
        print(f"argo-migrate: warning: something used the metadata database ({database})", file=sys.stderr)
    print(f"argo-migrate: task {run.state}"
          + (f"; skipped downstream: {', '.join(run.skip_tasks)}" if run.skip_tasks else ""), flush=True)
    return EXIT_CODES.get(run.state, 1)


# --- Airflow 3: the Task SDK's runner, with an in-memory supervisor -----------------------------------------


class Supervisor3:
    """Answers the task runner's requests (``SUPERVISOR_COMMS``) as the Execution API would, from memory.

    XComs come from the ``xcom`` parameter and what the task pushes; Connections and Variables are not found
    here, so Airflow's own lookup order finds them in AIRFLOW_CONN_* and AIRFLOW_VAR_* (the environment backend
    comes first) or in a secrets backend the image configures, and fails as Airflow fails when they are missing.
    """

    def __init__(self, run: Run) -> None:
        from airflow.sdk.execution_time import comms

        self.run = run
        self.comms = comms
        self.assets: dict[tuple[str, str], dict[str, Any]] = {}

    def _error(self, kind: str, **detail: Any) -> Any:
        from airflow.sdk.exceptions import ErrorType

        return self.comms.ErrorResponse(error=ErrorType[kind], detail=detail or None)

    async def asend(self, msg: Any) -> Any:
        return self.send(msg)

    def send(self, msg: Any) -> Any:
        c, run = self.comms, self.run
        kind = type(msg).__name__
        if kind == "GetXCom":
            index = -1 if msg.map_index is None else msg.map_index
            value = run.store.get((msg.task_id, msg.key, index))
            return c.XComResult(key=msg.key, value=value)
        if kind == "GetXComCount":
            return c.XComCountResponse(len=len(run.rows(msg.task_id, msg.key)))
        if kind == "GetXComSequenceItem":
            rows = run.rows(msg.task_id, msg.key)
            if -len(rows) <= msg.offset < len(rows):
                return c.XComSequenceIndexResult(root=rows[msg.offset][1])
            return self._error("XCOM_NOT_FOUND", task_id=msg.task_id, key=msg.key, offset=msg.offset)
        if kind == "GetXComSequenceSlice":
            values = [v for _, v in run.rows(msg.task_id, msg.key)]
            return c.XComSequenceSliceResult(root=values[slice(msg.start, msg.stop, msg.step)])
        if kind == "SetXCom":
            run.push(msg.task_id, msg.key, msg.map_index, msg.value)
            return None
        if kind == "DeleteXCom":
            run.delete(msg.task_id, msg.key, msg.map_index)
            return None
        if kind == "GetConnection":
            return self._error("CONNECTION_NOT_FOUND", conn_id=msg.conn_id)
        if kind == "GetVariable":
            return self._error("VARIABLE_NOT_FOUND", key=msg.key)
        if kind == "GetVariableKeys":
            return c.VariableKeysResult(keys=[], total_entries=0)
        if kind in ("PutVariable", "DeleteVariable"):
            print(f"argo-migrate: warning: {kind} has no effect outside Airflow (no metadata database)",
                  file=sys.stderr, flush=True)
            return c.OKResponse(ok=True)
        if kind == "MaskSecret":
            announce_mask(msg.value, msg.name)
            return None
        if kind == "SkipDownstreamTasks":
            run.skip(msg.tasks)
            return None
        if kind in ("SucceedTask", "TaskState", "RetryTask", "DeferTask", "RescheduleTask", "AwaitInputTask",
                    "SetRenderedFields", "SetRenderedMapIndex", "ResendLoggingFD"):
            return None  # the task runner returns the terminal state itself
        if kind == "ValidateInletsAndOutlets":
            return c.InactiveAssetsResult(inactive_assets=[])
        if kind == "GetTICount":
            return c.TICount(count=self._ti_count(msg))
        if kind == "GetTaskStates":
            return c.TaskStatesResult(task_states={})
        if kind == "GetDRCount":
            return c.DRCount(count=0)
        if kind == "GetPreviousDagRun":
            return c.PreviousDagRunResult(dag_run=None)
        if kind == "GetPreviousTI":
            return c.PreviousTIResult(task_instance=None)
        if kind == "GetPrevSuccessfulDagRun":
            return c.PrevSuccessfulDagRunResult()
        if kind == "GetTaskRescheduleStartDate":
            return c.TaskRescheduleStartDate(start_date=None)
        if kind == "GetDagRunState":
            return c.DagRunStateResult(state="running")
        if kind in ("GetTaskStateStore", "SetTaskStateStore", "DeleteTaskStateStore", "ClearTaskStateStore"):
            return self._task_state_store(kind, msg)
        if kind in ("GetAssetStateStoreByName", "GetAssetStateStoreByUri"):
            return self._error("ASSET_STORE_NOT_FOUND")
        if kind.startswith(("SetAssetState", "DeleteAssetState", "ClearAssetState")):
            return c.OKResponse(ok=True)
        if kind in ("GetAssetByName", "GetAssetByUri"):
            # The assets the DAG declares are the ones a fresh Airflow has registered for it; others are unknown.
            key = ("name", msg.name) if kind == "GetAssetByName" else ("uri", msg.uri)
            found = self.assets.get(key)
            return c.AssetResult(**found) if found else self._error("ASSET_NOT_FOUND")
        if kind == "GetAssetsByAlias":
            return c.AssetsByAliasResult(assets=[])  # no run has attached an asset to the alias yet
        if kind in ("GetAssetEventByAsset", "GetAssetEventByAssetAlias"):
            # A run of its own, with no asset event before it: the answer a fresh Airflow gives (dag.test()'s).
            return c.AssetEventsResult(asset_events=[])
        from airflow.sdk.exceptions import AirflowRuntimeError

        # What needs a live Airflow (triggering DAG runs, human-in-the-loop, asset events) fails the task saying so.
        raise AirflowRuntimeError(self._error("API_SERVER_ERROR", status_code=400,
                                              message=f"{kind} needs an Airflow API server (argo-migrate "
                                                      "runs this task without one)"))

    def _task_state_store(self, kind: str, msg: Any) -> Any:
        """Airflow 3.3's task state store, which survives the task's retries: a file the pod's tries share (the
        wrapper then retries in the pod, see :func:`supervise`)."""
        store = _load_state_store()
        if kind == "GetTaskStateStore":
            if msg.key not in store:
                return self._error("TASK_STORE_NOT_FOUND")
            return self.comms.TaskStateStoreResult(value=store[msg.key])
        if kind == "SetTaskStateStore":
            store[msg.key] = msg.value
        elif kind == "DeleteTaskStateStore":
            store.pop(msg.key, None)
        else:
            store.clear()
        _save_state_store(store)
        return self.comms.OKResponse(ok=True)

    def _ti_count(self, msg: Any) -> int:
        task_ids = msg.task_ids or []
        indexes = {i for (t, _k, i) in self.run.store if t in task_ids and i >= 0}
        return len(indexes) or (1 if any(t in task_ids for (t, _k, _i) in self.run.store) else 0)


def _declared_assets(dag: Any, folder: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The assets a fresh Airflow would have registered from the DAG folder: those the DAG's tasks name as inlets or
    outlets, its schedule's, and every asset defined at module level in the folder's modules (``@asset``
    functions, ``Asset(...)`` constants): by ("name", n) and ("uri", u)."""
    from airflow.sdk import Asset

    found: dict[tuple[str, str], dict[str, Any]] = {}
    candidates: list[Any] = []
    for each in dag.tasks:
        candidates += list(getattr(each, "inlets", None) or []) + list(getattr(each, "outlets", None) or [])
    for module in list(sys.modules.values()):
        if str(getattr(module, "__file__", None) or "").startswith(folder):
            candidates += [v for v in vars(module).values() if isinstance(v, Asset)]
    stack = candidates + [getattr(dag, "timetable", None)]
    while stack:
        item = stack.pop()
        if item is None:
            continue
        if hasattr(item, "iter_assets"):
            try:
                stack += [asset for _key, asset in item.iter_assets()]
            except Exception:  # noqa: BLE001 - a condition that cannot list its assets names none
                pass
        name, uri = getattr(item, "name", None), getattr(item, "uri", None)
        if isinstance(name, str) and isinstance(uri, str) and isinstance(item, Asset):
            record = {"name": name, "uri": uri, "group": str(getattr(item, "group", "") or "asset"),
                      "extra": dict(getattr(item, "extra", None) or {})}
            found[("name", name)] = found[("uri", uri)] = record
    return found


def run_airflow3(run: Run, dag: Any, task: Any) -> None:
    import uuid
    from datetime import datetime, timezone

    import structlog
    from airflow.sdk.api.datamodels._generated import DagRun as DagRunModel
    from airflow.sdk.api.datamodels._generated import TIRunContext
    from airflow.sdk.execution_time import task_runner
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance
    from airflow.serialization.encoders import coerce_to_core_timetable

    try:
        timetable = coerce_to_core_timetable(dag.timetable)
    except Exception:  # noqa: BLE001 - an unknown timetable: the run's date is its logical date
        timetable = None
    logical, start, end, run_after = run_dates(run, timetable, airflow3=True)
    supervisor = Supervisor3(run)
    supervisor.assets = _declared_assets(dag, run.folder)
    task_runner.SUPERVISOR_COMMS = supervisor  # type: ignore[assignment]
    log = structlog.get_logger(logger_name="task")
    now = datetime.now(tz=timezone.utc)
    dag_run = {"dag_id": dag.dag_id, "run_id": run.run_id, "logical_date": logical, "data_interval_start": start,
               "data_interval_end": end, "run_after": run_after,
               "start_date": now, "end_date": None, "clear_number": 0, "run_type": run.run_type,
               "state": "running", "conf": run.conf, "consumed_asset_events": [], "partition_key": None}
    known = DagRunModel.model_fields
    next_method: str | None = None
    next_kwargs: Any = None
    retries = int(getattr(task, "retries", 0) or 0)
    while True:
        context_fields = {"dag_run": DagRunModel(**{k: v for k, v in dag_run.items() if k in known}),
                          "max_tries": retries, "should_retry": run.try_number <= retries,
                          "next_method": next_method, "next_kwargs": next_kwargs}
        server_context = TIRunContext(**{k: v for k, v in context_fields.items() if k in TIRunContext.model_fields})
        ti = RuntimeTaskInstance.model_construct(
            id=uuid.uuid4(), task_id=task.task_id, dag_id=dag.dag_id, run_id=run.run_id,
            try_number=run.try_number, dag_version_id=uuid.uuid4(), map_index=run.map_index, task=task,
            _ti_context_from_server=server_context, max_tries=retries, start_date=now, state="running",
        )
        context = ti.get_template_context()
        state, msg, error = task_runner.run(ti, context, log)
        context["exception"] = error
        task_runner.finalize(ti, state, context, log, error)
        state = getattr(state, "value", state)
        if state == "deferred" and type(msg).__name__ == "DeferTask":
            next_method, next_kwargs, ended = _run_trigger3(msg, ti)
            if ended is None:
                continue
            state = ended
        run.state = str(state) if state in ("success", "skipped", "up_for_retry") else "failed"
        if run.state == "failed" and state != "failed":
            print(f"argo-migrate: the task ended {state!r}, which needs an Airflow scheduler: failed",
                  file=sys.stderr, flush=True)
        return


def _run_trigger3(msg: Any, ti: Any) -> tuple[str, Any, str | None]:
    """Run a deferred task's trigger here until its first event, as ``dag.test()`` does; then the task resumes
    (``next_method``) — or ends, when the trigger's event is a task-end event."""
    import importlib

    from airflow.sdk.serde import deserialize, serialize

    module, _, name = msg.classpath.rpartition(".")
    trigger = getattr(importlib.import_module(module), name)(**deserialize(msg.trigger_kwargs))
    print(f"argo-migrate: the task deferred; running {msg.classpath} here until it fires", flush=True)
    event, ended = _first_event(trigger, ti)
    if ended is not None:
        return msg.next_method, None, ended
    kwargs = {"event": serialize(event.payload)} if event is not None else msg.next_kwargs
    return msg.next_method, kwargs, None


def _first_event(trigger: Any, ti: Any) -> tuple[Any, str | None]:
    """The trigger's first event, and the task's end state when the event ends the task (its XComs pushed)."""
    import asyncio

    async def first_event() -> Any:
        async for event in trigger.run():
            return event
        return None

    event = asyncio.run(first_event())
    ended = getattr(event, "task_instance_state", None)
    if ended is None:
        return event, None
    for key, value in (getattr(event, "xcoms", None) or {}).items():
        ti.xcom_push(key, value)
    return event, str(getattr(ended, "value", ended))


# --- Airflow 2: the task instance's own execution, its database calls answered from memory ------------------


def run_airflow2(run: Run, dag: Any, task: Any) -> None:
    import importlib
    import types
    from collections.abc import Iterable

    from airflow.exceptions import (
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
        TaskDeferred,
    )
    from airflow.models import taskinstance as ti_module
    from airflow.models import xcom_arg
    from airflow.models.dagrun import DagRun
    from airflow.models.skipmixin import SkipMixin
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XCom
    from airflow.utils import timezone
    from airflow.utils.state import DagRunState, TaskInstanceState
    from airflow.utils.types import DagRunType

    def stored(value: Any) -> Any:
        """The JSON document Airflow's XCom backend keeps for ``value``."""
        raw = XCom.serialize_value(value, key=None, task_id=None, dag_id=None, run_id=None, map_index=None)
        return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)

    def loaded(document: Any) -> Any:
        return XCom.deserialize_value(types.SimpleNamespace(value=json.dumps(document).encode("utf-8")))

    def xcom_pull(*, ti: Any, task_ids: Any = None, dag_id: Any = None, key: Any = "return_value",
                  include_prior_dates: bool = False, session: Any = None, map_indexes: Any = None,
                  default: Any = None) -> Any:
        # Airflow 2.10's _xcom_pull over the XCom table, here over the memory store.
        single_task = task_ids is None or isinstance(task_ids, str)
        ids = [ti.task_id if task_ids is None else task_ids] if single_task else list(task_ids)
        wanted = (None if map_indexes is None else [map_indexes] if isinstance(map_indexes, int)
                  else list(map_indexes))
        found = [(t, i, v) for t in ids for (tt, k, i), v in sorted(run.store.items(), key=lambda kv: kv[0][2])
                 if tt == t and (key is None or k == key) and (wanted is None or i in wanted)]
        if single_task and not isinstance(map_indexes, Iterable):
            if not found:
                return default
            if map_indexes is not None or found[0][1] < 0:
                return loaded(found[0][2])
            return [loaded(v) for _, _, v in found]
        if wanted is not None:
            order = {index: n for n, index in enumerate(wanted)}
            found.sort(key=lambda row: (ids.index(row[0]), order[row[1]]))
        return [loaded(v) for _, _, v in found]

    def xcom_push(self: Any, key: str, value: Any, execution_date: Any = None, session: Any = None) -> None:
        run.push(self.task_id, key, self.map_index, stored(value))

    def xcom_set(cls: Any, key: str, value: Any, task_id: str, dag_id: str = "", execution_date: Any = None,
                 session: Any = None, *, run_id: str = "", map_index: int = -1, **_: Any) -> None:
        run.push(task_id, key, map_index, stored(value))

    def task_map_length(*, dag_id: str, task_id: str, run_id: str, is_mapped: bool, session: Any = None) -> Any:
        rows = run.rows(task_id, "return_value")
        if is_mapped:
            return len([i for i, _ in rows if i >= 0])
        value = dict(rows).get(-1)
        return len(value) if isinstance(value, (list, dict)) else None

    def record_task_map(*, task_instance: Any, task: Any, dag: Any, value: Any, session: Any) -> None:
        from airflow.exceptions import UnmappableXComTypePushed, XComForMappingNotPushed
        from airflow.models.mappedoperator import MappedOperator

        if next(task.iter_mapped_dependants(), None) is None or isinstance(task, MappedOperator):
            return
        if value is None:
            raise XComForMappingNotPushed()
        if not ti_module._is_mappable_value(value):
            raise UnmappableXComTypePushed(value)

    # Everything below would read or write the metadata database.
    ti_module._xcom_pull = xcom_pull
    TaskInstance.xcom_push = xcom_push
    TaskInstance.clear_xcom_data = lambda self, session=None: None
    # This run is the DAG's first as far as anything here knows: no previous runs or task instances.
    for name in ("get_previous_dagrun", "get_previous_ti", "get_previous_execution_date",
                 "get_previous_start_date"):
        setattr(TaskInstance, name, lambda self, *args, **kwargs: None)
    ti_module._record_task_map_for_downstreams = record_task_map
    XCom.set = classmethod(xcom_set)  # type: ignore[assignment]
    xcom_arg._get_task_map_length = task_map_length
    SkipMixin._set_state_to_skipped = staticmethod(  # type: ignore[method-assign]
        lambda dag_run, tasks, session=None: run.skip(tasks))
    _only_environment_secrets(importlib.import_module("airflow.configuration"))
    # Every value Airflow masks (a connection's password, a sensitive Variable, mask_secret) is masked by the
    # supervising process too, in what the task prints and what its subprocesses write.
    masker_class: Any = importlib.import_module("airflow.utils.log.secrets_masker").SecretsMasker
    original_add = getattr(masker_class.add_mask, "airflow_original", masker_class.add_mask)

    def add_mask(self: Any, secret: Any, name: str | None = None) -> None:
        original_add(self, secret, name)
        announce_mask(secret, name)

    add_mask.airflow_original = original_add  # type: ignore[attr-defined]
    masker_class.add_mask = add_mask

    logical, start, end, _ = run_dates(run, dag.timetable, airflow3=False)
    now = timezone.utcnow()
    dag_run = DagRun(dag_id=dag.dag_id, run_id=run.run_id, execution_date=logical, start_date=now,
                     external_trigger=run.run_type == "manual", conf=run.conf, state=DagRunState.RUNNING,
                     run_type=DagRunType(run.run_type), data_interval=(start, end))
    dag_run.dag = dag
    dag_run.get_task_instance = lambda task_id, map_index=-1, session=None: types.SimpleNamespace(  # type: ignore
        task_id=task_id, map_index=map_index)
    ti = TaskInstance(task, run_id=run.run_id, map_index=run.map_index)
    ti.dag_run = dag_run
    ti.try_number = run.try_number
    ti.start_date = now
    ti.state = TaskInstanceState.RUNNING
    ti.hostname = os.uname().nodename
    ti.next_method, ti.next_kwargs = None, None
    original = task
    while True:
        ti.task = original.prepare_for_execution()
        context = ti.get_template_context(ignore_param_exceptions=False)
        try:
            ti._execute_task_with_callbacks(context, test_mode=True, session=None)
        except TaskDeferred as deferred:
            ti.next_method, ti.next_kwargs, ended = _run_trigger2(deferred, ti)
            if ended is None:
                continue
            run.state = "success" if ended == "success" else "skipped" if ended == "skipped" else "failed"
            break
        except AirflowSkipException as skip:
            print(f"argo-migrate: task skipped{f': {skip}' if str(skip) else ''}", flush=True)
            run.state = "skipped"
            _callbacks2(ti_module, ti.task, "on_skipped_callback", context)
        except BaseException as error:  # noqa: BLE001 - the task's failure, whatever it raised
            traceback.print_exc()
            context["exception"] = error
            retry = (not isinstance(error, (AirflowFailException, AirflowSensorTimeout))
                     and run.try_number <= (ti.task.retries or 0))
            _callbacks2(ti_module, ti.task, "on_retry_callback" if retry else "on_failure_callback", context)
            run.state = "up_for_retry" if retry else "failed"
        else:
            run.state = "success"
            _callbacks2(ti_module, ti.task, "on_success_callback", context)
        break


def _only_environment_secrets(configuration: Any) -> None:
    """Connections and Variables from AIRFLOW_CONN_*/AIRFLOW_VAR_* (and an image-configured backend), never from
    the metadata database: Airflow 2 would look there last, and there is none."""
    backends = configuration.initialize_secrets_backends()
    kept = [b for b in backends if type(b).__name__ != "MetastoreBackend"]
    configuration.secrets_backend_list[:] = kept


def _callbacks2(ti_module: Any, task: Any, name: str, context: Any) -> None:
    callbacks = getattr(task, name, None)
    if not callbacks:
        return
    for callback in callbacks if isinstance(callbacks, list) else [callbacks]:
        try:
            callback(context)
        except Exception:  # noqa: BLE001 - Airflow logs a failing callback and keeps the task's state
            print(f"argo-migrate: the task's {name} failed:", file=sys.stderr, flush=True)
            traceback.print_exc()


def _run_trigger2(deferred: Any, ti: Any) -> tuple[str, Any, str | None]:
    trigger = deferred.trigger
    print(f"argo-migrate: the task deferred; running {type(trigger).__name__} here until it fires", flush=True)
    event, ended = _first_event(trigger, ti)
    if ended is not None:
        return deferred.method_name, None, ended
    kwargs = dict(deferred.kwargs or {})
    if event is not None:
        kwargs["event"] = event.payload
    return deferred.method_name, kwargs, None


if __name__ == "__main__":
    sys.exit(main_task_process() if os.environ.get("AM_TASK_PROCESS") == "1" else supervise())
