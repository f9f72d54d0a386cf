"""Sensors: waiting becomes an Argo suspend (a fixed delay) or a polling step (a condition checked every
``poke_interval`` seconds until ``timeout``, as Airflow's ``poke`` mode does)."""

from __future__ import annotations

from dataclasses import replace

from frontends.airflow.model import TaskDraft
from frontends.airflow.translate import TranslateContext, Translation, Untranslatable, templated
from frontends.airflow.translators.branching import weekdays
from frontends.airflow.translators.generated import generated
from frontends.airflow.translators.python import SOFT_FAIL_NOTE, poll_settings
from frontends.airflow.values import DateTime, Duration, ParseTime, TimeOfDay
from migrator.ir import Wait, plain


def time_delta_sensor(task: TaskDraft, ctx: TranslateContext) -> Translation:
    """Wait ``delta`` after the run starts (Airflow: after the data interval ends, which for a run triggered now
    or by Airflow 3's cron timetable is the run's start)."""
    delta = task.arg("delta")
    if not isinstance(delta, Duration):
        raise Untranslatable("AM103", "delta is only known at run time")
    return Translation(Wait(seconds=int(delta.seconds)))


def _poll(task: TaskDraft, ctx: TranslateContext, name: str, check: str, clock: bool = True) -> Translation:
    interval, timeout, soft = poll_settings(task)
    if clock:
        ctx.reads_date = True
    call = generated(name, check, poll=(interval, timeout), clock=clock, soft_fail=soft)
    if not soft:
        return Translation(call)
    return Translation(call, outputs=("proceed",), gates={d: "proceed" for d in ctx.downstream},
                       notes=(SOFT_FAIL_NOTE,))


def time_sensor(task: TaskDraft, ctx: TranslateContext) -> Translation:
    target = task.arg("target_time")
    if isinstance(target, ParseTime) and target.time_of_day:
        # datetime.now() in the DAG file: Airflow evaluates it when it parses the file, shortly before the run.
        body = f"""import datetime

start = _am_now(True)
target = (start + datetime.timedelta(seconds={target.offset!r})).time()
now = datetime.datetime.now(datetime.timezone.utc)
return now.time() >= target or now - start >= datetime.timedelta(days=1)"""
        translation = _poll(task, ctx, "time_sensor", body)
        note = ("AM119", "target_time comes from datetime.now() when Airflow parses the file; the migrated sensor "
                         "counts from the start of the run")
        return replace(translation, notes=(*translation.notes, note))
    if not isinstance(target, TimeOfDay):
        raise Untranslatable("AM103", "target_time is only known at run time")
    body = f"""import datetime

now = datetime.datetime.now(datetime.timezone.utc)
day = _am_now(True).date()
target = datetime.datetime.combine(day, datetime.time({target.hour}, {target.minute}, {target.second}),
                                   tzinfo=datetime.timezone.utc)
return now >= target"""
    return _poll(task, ctx, "time_sensor", body)


def date_time_sensor(task: TaskDraft, ctx: TranslateContext) -> Translation:
    target = task.arg("target_time")
    if isinstance(target, DateTime):
        if (target.timezone or "UTC") != "UTC":
            raise Untranslatable("AM103", "target_time in a time zone other than UTC is not translated yet")
        body = f"""import datetime

target = datetime.datetime.fromisoformat({target.iso + '+00:00'!r})
return datetime.datetime.now(datetime.timezone.utc) >= target"""
        return _poll(task, ctx, "date_time_sensor", body, clock=False)
    raise Untranslatable("AM103", "target_time is only known at run time")


def day_of_week_sensor(task: TaskDraft, ctx: TranslateContext) -> Translation:
    days = weekdays(task.arg("week_day"))
    use_logical = task.arg("use_task_logical_date") is True
    body = f"""return _am_now({use_logical!r}).strftime("%A").upper() in {days!r}"""
    return _poll(task, ctx, "day_of_week_sensor", body)


def file_sensor(task: TaskDraft, ctx: TranslateContext) -> Translation:
    """Poll for a path in the step's file system: it must be a volume the producer also writes (see README)."""
    path = plain(templated(task.arg("filepath"), task, ctx, "filepath"))
    if path is None:
        raise Untranslatable("AM111", "filepath with run-time values is not translated yet")
    recursive = task.arg("recursive") is True
    body = f"""import glob

return bool(glob.glob({path!r}, recursive={recursive!r}))"""
    translation = _poll(task, ctx, "file_sensor", body, clock=False)
    note = ("AM119", f"FileSensor polls {path!r} inside its own pod: mount the volume the producer writes to")
    return replace(translation, notes=(*translation.notes, note))
