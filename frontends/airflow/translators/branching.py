"""Branches decided by the clock: BranchDateTimeOperator, BranchDayOfWeekOperator.

The decision runs as a small generated script (``generated.py``) that returns the task ids to follow, and the branch
mechanism of ``python.py`` turns it into ``when`` conditions on the downstream tasks.
"""

from __future__ import annotations

from typing import Any

from frontends.airflow.model import TaskDraft
from frontends.airflow.translate import TranslateContext, Translation, Untranslatable
from frontends.airflow.translators.generated import generated
from frontends.airflow.values import DateTime, Qual, TimeOfDay

WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


def _ids(value: Any, name: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    raise Untranslatable("AM103", f"{name} is only known at run time")


def _branch(task: TaskDraft, ctx: TranslateContext, function: str, body: str) -> Translation:
    targets = tuple((d, f"follow_{i}") for i, d in enumerate(ctx.downstream))
    call = generated(function, body, result="branch", targets=targets)
    ctx.reads_date = True
    return Translation(call, outputs=tuple(name for _, name in targets), gates=dict(targets))


def _bound(value: Any, name: str) -> str:
    if value is None:
        return "None"
    if isinstance(value, DateTime):
        zone = value.timezone or "UTC"
        if zone != "UTC":
            raise Untranslatable("AM103", f"{name} in time zone {zone} is not translated yet")
        return f"datetime.datetime.fromisoformat({value.iso + '+00:00'!r})"
    if isinstance(value, TimeOfDay):
        return f"datetime.time({value.hour}, {value.minute}, {value.second})"
    raise Untranslatable("AM103", f"{name} is only known at run time")


def branch_datetime(task: TaskDraft, ctx: TranslateContext) -> Translation:
    true_ids = _ids(task.arg("follow_task_ids_if_true"), "follow_task_ids_if_true")
    false_ids = _ids(task.arg("follow_task_ids_if_false"), "follow_task_ids_if_false")
    lower = _bound(task.arg("target_lower"), "target_lower")
    upper = _bound(task.arg("target_upper"), "target_upper")
    use_logical = task.arg("use_task_logical_date") is True
    body = f"""import datetime

now = _am_now({use_logical!r})
lower, upper = {lower}, {upper}
if isinstance(lower, datetime.time):
    lower = datetime.datetime.combine(now.date(), lower, tzinfo=now.tzinfo)
if isinstance(upper, datetime.time):
    upper = datetime.datetime.combine(now.date(), upper, tzinfo=now.tzinfo)
    if lower is not None and upper < lower:
        upper += datetime.timedelta(days=1)
inside = (lower is None or lower <= now) and (upper is None or now <= upper)
return {true_ids!r} if inside else {false_ids!r}"""
    return _branch(task, ctx, "branch_datetime", body)


def weekdays(value: Any) -> list[str]:
    items = value if isinstance(value, list | tuple | set) else [value]
    days: list[str] = []
    for item in items:
        name = item.last if isinstance(item, Qual) else item
        if not isinstance(name, str) or name.upper() not in WEEKDAYS:
            raise Untranslatable("AM103", "week_day is only known at run time")
        days.append(name.upper())
    return sorted(set(days), key=WEEKDAYS.index)


def branch_day_of_week(task: TaskDraft, ctx: TranslateContext) -> Translation:
    true_ids = _ids(task.arg("follow_task_ids_if_true"), "follow_task_ids_if_true")
    false_ids = _ids(task.arg("follow_task_ids_if_false"), "follow_task_ids_if_false")
    days = weekdays(task.arg("week_day"))
    use_logical = task.arg("use_task_logical_date") is True
    body = f"""today = _am_now({use_logical!r}).strftime("%A").upper()
return {true_ids!r} if today in {days!r} else {false_ids!r}"""
    return _branch(task, ctx, "branch_day_of_week", body)
