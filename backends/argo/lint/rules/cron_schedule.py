"""CronWorkflow schedules that Argo's cron controller would refuse.

What it checks
    A CronWorkflow has at least one schedule; each is a standard 5-field cron expression (optionally prefixed with
    ``CRON_TZ=``/``TZ=``) or a descriptor (``@daily``, ``@every 1h``...); ``timezone`` is a known IANA zone;
    ``concurrencyPolicy`` is Allow, Forbid or Replace; ``startingDeadlineSeconds`` is not negative. Schedules holding
    ``{{...}}`` are not checked.

Why
    Argo's ``validate.CronWorkflow`` rejects these when the CronWorkflow is created; a scheduled pipeline that never
    gets created is easy to miss.

Example::

    spec:
      schedules: ["0 2 * *"]        # four fields
      timezone: Europe/Pariss       # unknown zone
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Iterator

from backends.argo.lint.findings import Finding
from backends.argo.lint.manifest import Manifest, as_dict, as_list, is_dynamic

NAME = "cron-schedule"
CODES = ("AM422",)

_DESCRIPTORS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_EVERY = re.compile(r"@every\s+((\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)")
_FIELD = re.compile(r"[0-9A-Za-z*?/,\-]+")
_POLICIES = ("Allow", "Forbid", "Replace")


def schedule_problem(schedule: str) -> str | None:
    """Why ``schedule`` is not a cron expression robfig/cron's ParseStandard accepts, or None."""
    text = schedule.strip()
    if text.startswith(("CRON_TZ=", "TZ=")):
        zone, _, text = text.partition(" ")
        problem = zone_problem(zone.partition("=")[2])
        if problem:
            return problem
        text = text.strip()
    if text.startswith("@"):
        if text in _DESCRIPTORS or _EVERY.fullmatch(text):
            return None
        return f"unknown descriptor '{text}'"
    fields = text.split()
    if len(fields) != 5:
        return f"a cron expression has 5 fields (minute hour day-of-month month day-of-week), this one {len(fields)}"
    bad = [f for f in fields if not _FIELD.fullmatch(f)]
    return f"invalid field '{bad[0]}'" if bad else None


@functools.cache
def _have_zone_database() -> bool:
    try:
        zoneinfo.ZoneInfo("America/New_York")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False  # no tz database here: no zone can be judged
    return True


def zone_problem(zone: str) -> str | None:
    if not zone or zone in ("UTC", "Local") or not _have_zone_database():
        return None
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone '{zone}'"
    return None


def check(doc: Manifest) -> Iterator[Finding]:
    if doc.kind != "CronWorkflow":
        return
    spec = as_dict(doc.data.get("spec"))
    schedules = as_list(spec.get("schedules"))
    if "schedules" in spec and isinstance(spec.get("schedules"), list) and not schedules:
        yield Finding("AM422", ("spec", "schedules"), "a CronWorkflow needs at least one schedule")
    for i, schedule in enumerate(schedules):
        if isinstance(schedule, str) and not is_dynamic(schedule):
            problem = schedule_problem(schedule)
            if problem:
                yield Finding("AM422", ("spec", "schedules", i), f"schedule '{schedule}' is malformed: {problem}")
    timezone = spec.get("timezone")
    if isinstance(timezone, str) and not is_dynamic(timezone):
        problem = zone_problem(timezone)
        if problem:
            yield Finding("AM422", ("spec", "timezone"), f"invalid timezone: {problem}")
    policy = spec.get("concurrencyPolicy")
    if isinstance(policy, str) and policy and policy not in _POLICIES:
        yield Finding("AM422", ("spec", "concurrencyPolicy"),
                      f"'{policy}' is not a valid concurrencyPolicy (Allow, Forbid or Replace)")
    deadline = spec.get("startingDeadlineSeconds")
    if isinstance(deadline, int) and not isinstance(deadline, bool) and deadline < 0:
        yield Finding("AM422", ("spec", "startingDeadlineSeconds"), "startingDeadlineSeconds must not be negative")
