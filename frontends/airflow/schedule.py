"""Airflow schedules → cron: one row per preset, as Airflow's ``cron_presets`` define them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from frontends.airflow.values import Duration

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


def translate(value: object) -> ScheduleResult:
    if value is None:
        return ScheduleResult(None)
    if isinstance(value, str):
        text = value.strip()
        if text in PRESETS:
            return ScheduleResult(PRESETS[text])
        if text == "@continuous":
            return ScheduleResult(None, "schedule '@continuous' has no cron equivalent")
        if _CRON.match(text):
            return ScheduleResult(text)
        return ScheduleResult(None, f"schedule {text!r} is not a cron expression or preset")
    if isinstance(value, Duration):
        return ScheduleResult(None, f"a timedelta schedule ({value.seconds:g}s) is not translated yet")
    return ScheduleResult(None, "a timetable or asset schedule is not translated yet")
