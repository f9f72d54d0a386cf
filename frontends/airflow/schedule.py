"""Airflow schedules → cron: one row per preset, as Airflow's ``cron_presets`` define them."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from frontends.airflow.values import DateTime, Duration

PRESETS: dict[str, str | None] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@once": None,  # one run, triggered by hand or on deploy: no CronWorkflow
}

_CRON_FIELD = r"[0-9A-Za-z*/,?#LW-]+"
_CRON = re.compile(rf"^{_CRON_FIELD}(\s+{_CRON_FIELD}){{4,5}}$")


@dataclass(frozen=True)
class ScheduleResult:
    cron: str | None
    problem: str | None = None  # why no cron could be made, when the source has a schedule


def from_timedelta(seconds: float, start: DateTime | None) -> ScheduleResult:
    """A fixed interval counted from ``start_date`` is a cron schedule when it divides an hour, a day or a week and
    the start lies on that grid (whole minutes); otherwise no cron can fire at exactly those times."""
    if start is None:
        return ScheduleResult(None, f"a timedelta schedule ({seconds:g}s) needs a static start_date to become cron")
    moment = datetime.datetime.fromisoformat(start.iso)
    if moment.second or moment.microsecond or seconds <= 0 or seconds % 60:
        return ScheduleResult(None, f"a timedelta schedule ({seconds:g}s) does not fall on whole minutes")
    minutes = int(seconds // 60)
    m, h = moment.minute, moment.hour
    if minutes < 60 and 60 % minutes == 0:
        first = m % minutes
        return ScheduleResult(f"*/{minutes} * * * *" if first == 0 else f"{first}-59/{minutes} * * * *")
    if minutes % 60 == 0 and minutes < 1440 and 1440 % minutes == 0:
        hours = minutes // 60
        if hours == 1:
            return ScheduleResult(f"{m} * * * *")
        first = h % hours
        return ScheduleResult(f"{m} */{hours} * * *" if first == 0 else f"{m} {first}-23/{hours} * * *")
    if minutes == 1440:
        return ScheduleResult(f"{m} {h} * * *")
    if minutes == 7 * 1440:
        return ScheduleResult(f"{m} {h} * * {(moment.weekday() + 1) % 7}")
    return ScheduleResult(None, f"a timedelta schedule ({seconds:g}s) has no exact cron equivalent")


def translate(value: object, start: DateTime | None = None) -> ScheduleResult:
    if value is None:
        return ScheduleResult(None)
    if isinstance(value, str):
        text = value.strip()
        if text in PRESETS:
            return ScheduleResult(PRESETS[text])
        if text == "@continuous":
            return ScheduleResult(None, "schedule '@continuous' has no cron equivalent")
        if _CRON.match(text) and len(text.split()) != 5:
            # croniter (Airflow's) takes a sixth field of seconds; Argo's cron has five.
            return ScheduleResult(None, f"schedule {text!r} has {len(text.split())} fields; Argo's cron takes 5")
        if _CRON.match(text):
            return ScheduleResult(text)
        return ScheduleResult(None, f"schedule {text!r} is not a cron expression or preset")
    if isinstance(value, Duration):
        return from_timedelta(value.seconds, start)
    return ScheduleResult(None, "a timetable or asset schedule is not translated yet")
