"""Times and recurrences for the fake Calendar: RFC 3339 parsing, event bounds, and expansion
of RRULE/RDATE/EXDATE into instances (dateutil.rrule, not hand-rolled)."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rruleset, rrulestr

MAX_SPAN = timedelta(days=366)


def rfc3339(dt: datetime) -> str:
    """UTC with milliseconds, as Google writes `updated`/`created`."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_rfc3339(text: str) -> datetime:
    """A timestamp with a mandatory offset (Google answers 400 without one)."""
    dt = datetime.fromisoformat(text.replace("z", "Z"))
    if dt.tzinfo is None:
        raise ValueError(f"no time zone offset in {text!r}")
    return dt


def _zone(name: str | None, default: str) -> ZoneInfo:
    return ZoneInfo(name or default)


def when(field: dict[str, Any], cal_tz: str) -> datetime:
    """An event's start/end as an aware datetime (all-day dates at midnight in the calendar's
    zone)."""
    if "dateTime" in field:
        dt = datetime.fromisoformat(field["dateTime"])
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=_zone(field.get("timeZone"), cal_tz))
        return dt
    d = date.fromisoformat(field["date"])
    return datetime.combine(d, time(), tzinfo=ZoneInfo(cal_tz))


def bounds(event: dict[str, Any], cal_tz: str) -> tuple[datetime, datetime]:
    start = when(event["start"], cal_tz)
    end = when(event.get("end") or event["start"], cal_tz)
    return start, max(end, start)


def overlaps(event: dict[str, Any], cal_tz: str, lo: datetime | None, hi: datetime | None) -> bool:
    start, end = bounds(event, cal_tz)
    if lo is not None and not (end > lo or (start == end and start >= lo)):
        return False
    return not (hi is not None and start >= hi)


def _dtstart(start: dict[str, Any]) -> tuple[datetime, bool, ZoneInfo | None]:
    if "date" in start:
        return datetime.combine(date.fromisoformat(start["date"]), time()), True, None
    dt = datetime.fromisoformat(start["dateTime"])
    tz = ZoneInfo(start["timeZone"]) if start.get("timeZone") else None
    if dt.tzinfo is None:
        if tz is None:
            raise ValueError(f"start.dateTime without offset needs start.timeZone: {start}")
        dt = dt.replace(tzinfo=tz)
    elif tz is not None:
        dt = dt.astimezone(tz)
    return dt, False, tz


def _values(line: str, dtstart: datetime, all_day: bool) -> list[datetime]:
    head, _, values = line.partition(":")
    params = dict(p.split("=", 1) for p in head.split(";")[1:] if "=" in p)
    tz = ZoneInfo(params["TZID"]) if "TZID" in params else dtstart.tzinfo
    out = []
    for v in values.split(","):
        v = v.strip()
        if len(v) == 8:
            dt = datetime.strptime(v, "%Y%m%d")
            if not all_day:
                dt = datetime.combine(dt.date(), dtstart.timetz())
        elif v.endswith("Z"):
            dt = datetime.strptime(v, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            dt = dt.replace(tzinfo=None) if all_day else dt
        else:
            dt = datetime.strptime(v, "%Y%m%dT%H%M%S")
            dt = dt if all_day else dt.replace(tzinfo=tz)
        out.append(dt)
    return out


def ruleset(master: dict[str, Any]) -> tuple[rruleset, datetime, bool]:
    dtstart, all_day, _ = _dtstart(master["start"])
    rs = rruleset()
    for line in master.get("recurrence") or []:
        name = line.split(":", 1)[0].split(";", 1)[0].upper()
        if name in ("RRULE", "EXRULE"):
            rule = rrulestr(line, dtstart=dtstart, ignoretz=all_day)
            (rs.rrule if name == "RRULE" else rs.exrule)(rule)
        elif name == "RDATE":
            for dt in _values(line, dtstart, all_day):
                rs.rdate(dt)
        elif name == "EXDATE":
            for dt in _values(line, dtstart, all_day):
                rs.exdate(dt)
        else:
            raise ValueError(f"unsupported recurrence line {line!r}")
    if not any(line.upper().startswith(("RRULE", "RDATE")) for line in master["recurrence"]):
        rs.rdate(dtstart)
    return rs, dtstart, all_day


def _finite(master: dict[str, Any]) -> bool:
    rules = [r.upper() for r in master.get("recurrence") or [] if r.upper().startswith("RRULE")]
    return all("COUNT=" in r or "UNTIL=" in r for r in rules)


def instance_id(master_id: str, original: datetime, all_day: bool) -> str:
    if all_day:
        return f"{master_id}_{original:%Y%m%d}"
    return f"{master_id}_{original.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def make_instance(master: dict[str, Any], original: datetime, all_day: bool) -> dict[str, Any]:
    start = master["start"]
    inst = copy.deepcopy(master)
    inst.pop("recurrence", None)
    first, _, _ = _dtstart(start)
    if all_day:
        length = date.fromisoformat((master.get("end") or start)["date"]) - first.date()
        inst["start"] = {"date": original.date().isoformat()}
        inst["end"] = {"date": (original.date() + length).isoformat()}
        inst["originalStartTime"] = {"date": original.date().isoformat()}
    else:
        end = datetime.fromisoformat((master.get("end") or start)["dateTime"])
        if end.tzinfo is None:
            end = end.replace(tzinfo=first.tzinfo)
        length = end - first
        tzname = {"timeZone": start["timeZone"]} if start.get("timeZone") else {}
        end_tz = (master.get("end") or start).get("timeZone")
        inst["start"] = {"dateTime": original.isoformat(), **tzname}
        inst["end"] = {
            "dateTime": (original + length).isoformat(),
            **({"timeZone": end_tz} if end_tz else {}),
        }
        inst["originalStartTime"] = {"dateTime": original.isoformat(), **tzname}
    inst["id"] = instance_id(master["id"], original, all_day)
    inst["recurringEventId"] = master["id"]
    return inst


def expand(
    master: dict[str, Any],
    cal_tz: str,
    lo: datetime | None,
    hi: datetime | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """Instances of a recurring master whose span may overlap [lo, hi). Without hi: at most
    about a year past lo (or now)."""
    rs, dtstart, all_day = ruleset(master)
    first_end = bounds(master, cal_tz)[1]
    length = first_end - bounds(master, cal_tz)[0]
    start = (lo - length - timedelta(days=1)) if lo is not None else None
    if hi is not None:
        stop = hi
    else:
        first = bounds(master, cal_tz)[0]
        stop = (lo or max(now, first)) + MAX_SPAN
        if _finite(master):
            stop = max(stop, first + timedelta(days=3660))
    if all_day:
        tz = ZoneInfo(cal_tz)
        a = start.astimezone(tz).replace(tzinfo=None) if start else dtstart
        b = stop.astimezone(tz).replace(tzinfo=None)
    else:
        a = start if start is not None else dtstart
        b = stop
    a = max(a, dtstart)
    return [make_instance(master, o, all_day) for o in rs.between(a, b, inc=True)]


def occurs_at(master: dict[str, Any], stamp: str) -> datetime | None:
    """The original start named by an instance id's stamp, if the series has it."""
    rs, dtstart, all_day = ruleset(master)
    try:
        if all_day:
            t = datetime.strptime(stamp, "%Y%m%d")
        else:
            t = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            t = t.astimezone(dtstart.tzinfo)
    except ValueError:
        return None
    hits = rs.between(t - timedelta(seconds=1), t + timedelta(seconds=1), inc=True)
    return hits[0] if hits else None


def is_all_day(event: dict[str, Any]) -> bool:
    return "date" in event["start"]
