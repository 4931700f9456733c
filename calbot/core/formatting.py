"""Locale formatting of dates, times, slots and lengths for the drafts (en, vi, ms).

Pure functions: they take aware datetimes and IANA zone names and never read the clock.
Babel supplies weekday, month and city names; the few things Babel gives that a letter
writer would not write are patched here:

- Babel's clock formats ("3:30 PM", "3:30 CH", "3:30 PTG") are replaced by what each
  language writes in a letter: "3:30 pm", "15:30", "3.30 petang".
- Vietnamese weekdays start lower-case inside a sentence ("thứ Ba"), Sunday is "Chủ nhật".
- City names: "Ho Chi Minh" is "Ho Chi Minh City" in English and the zone reads
  "giờ Việt Nam" / "waktu Malaysia" for a reader in that country; "Etc/GMT+7"-style zones
  (whose sign is inverted) are shown as a plain UTC offset.

Formats (client's zone first, the user's beside it when the clock differs):
- en: "Tuesday 1 December, 9:30 pm (Ho Chi Minh City) / 3:30 pm (Berlin)"
- vi: "thứ Ba, ngày 1/12/2026, lúc 21:30 (giờ Việt Nam) / 15:30 (giờ Berlin)"
- ms: "Selasa, 1 Disember 2026, 9.30 malam (waktu Malaysia) / 3.30 petang (waktu Berlin)"
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import get_day_names, get_month_names, get_timezone_location

from calbot.core.model import Slot
from calbot.core.settings import LANGUAGES

# Zone labels a letter writer would use instead of Babel's exemplar city.
_CITY_PATCH: dict[str, dict[str, str]] = {
    "en": {"Asia/Ho_Chi_Minh": "Ho Chi Minh City", "Asia/Saigon": "Ho Chi Minh City"},
    "vi": {"Asia/Ho_Chi_Minh": "Việt Nam", "Asia/Saigon": "Việt Nam"},
    "ms": {
        "Asia/Ho_Chi_Minh": "Vietnam",
        "Asia/Saigon": "Vietnam",
        "Asia/Kuala_Lumpur": "Malaysia",
        "Asia/Kuching": "Malaysia",
    },
}

# How each language introduces a zone label in brackets.
_ZONE_WORD = {"en": "", "vi": "giờ ", "ms": "waktu "}


def _lang(lang: str) -> str:
    return lang if lang in LANGUAGES else "en"


def zone(name: str, fallback: str = "UTC") -> tzinfo:
    """The zone called `name`, else `fallback`, else UTC (never raises)."""
    for candidate in (name, fallback, "UTC"):
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")  # pragma: no cover - UTC always exists with tzdata


def _utc_offset_label(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta()).total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{mins:02d}" if mins else "")


def city_name(tz_name: str, lang: str, when: datetime | None = None) -> str:
    """A short, human name for the zone ("Berlin", "Ho Chi Minh City", "Việt Nam")."""
    lang = _lang(lang)
    patched = _CITY_PATCH[lang].get(tz_name)
    if patched:
        return patched
    if tz_name.startswith("Etc/") and tz_name not in ("Etc/UTC", "Etc/GMT", "Etc/Universal"):
        at = when or datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC"))
        return _utc_offset_label(at.astimezone(zone(tz_name)).utcoffset())
    try:
        city = str(get_timezone_location(tz_name, locale=lang, return_city=True))
    except (LookupError, ValueError):
        city = ""
    if not city or city.startswith("GMT"):
        at = when or datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC"))
        return _utc_offset_label(at.astimezone(zone(tz_name)).utcoffset())
    return city


def weekday(dt: datetime, lang: str) -> str:
    """The weekday of `dt` (already in the wanted zone) as written inside a sentence."""
    lang = _lang(lang)
    name = str(get_day_names("wide", locale=lang)[dt.weekday()])
    if lang == "vi":
        # Babel: "Thứ Ba", "Chủ Nhật"; in running text: "thứ Ba", "Chủ nhật".
        if name.lower().startswith("thứ"):
            name = "thứ" + name[3:]
        else:
            name = name[:1].upper() + name[1:].lower()
    return name


def date_text(dt: datetime, lang: str) -> str:
    """The date of `dt` (already in the wanted zone): "Tuesday 1 December",
    "thứ Ba, ngày 1/12/2026", "Selasa, 1 Disember 2026"."""
    lang = _lang(lang)
    day = weekday(dt, lang)
    if lang == "vi":
        return f"{day}, ngày {dt.day}/{dt.month}/{dt.year}"
    month = str(get_month_names("wide", locale=lang)[dt.month])
    if lang == "ms":
        return f"{day}, {dt.day} {month} {dt.year}"
    return f"{day} {dt.day} {month}"


def _ms_period(hour: int) -> str:
    if hour < 12:
        return "pagi"
    if hour < 14:
        return "tengah hari"
    if hour < 19:
        return "petang"
    return "malam"


def clock_text(dt: datetime, lang: str) -> str:
    """The time of day of `dt`: "3:30 pm", "15:30", "3.30 petang"."""
    lang = _lang(lang)
    if lang == "vi":
        return f"{dt.hour}:{dt.minute:02d}"
    hour12 = dt.hour % 12 or 12
    if lang == "ms":
        return f"{hour12}.{dt.minute:02d} {_ms_period(dt.hour)}"
    return f"{hour12}:{dt.minute:02d} {'am' if dt.hour < 12 else 'pm'}"


def _one_zone(dt: datetime, lang: str) -> str:
    if lang == "vi":
        return f"{date_text(dt, lang)}, lúc {clock_text(dt, lang)}"
    return f"{date_text(dt, lang)}, {clock_text(dt, lang)}"


def _label(tz_name: str, lang: str, dt: datetime) -> str:
    return f"({_ZONE_WORD[lang]}{city_name(tz_name, lang, dt)})"


def when_text(dt: datetime, lang: str, client_tz: str, user_tz: str) -> str:
    """Date and time of `dt` in the client's zone, with the user's zone beside it when the
    clock there differs. The user's part names its weekday only when the day differs:
    "Wednesday 2 December, 2:30 am (Auckland) / 2:30 pm Tuesday (Berlin)"."""
    lang = _lang(lang)
    client_zone_name = client_tz or user_tz
    local = dt.astimezone(zone(client_zone_name, user_tz))
    mine = dt.astimezone(zone(user_tz, client_zone_name))
    text = _one_zone(local, lang)
    if local.utcoffset() == mine.utcoffset():
        return text
    mine_text = clock_text(mine, lang)
    if local.date() != mine.date():  # the user's clock is on another day: say which
        mine_text += f" {weekday(mine, lang)}"
    return f"{text} {_label(client_zone_name, lang, dt)} / {mine_text} {_label(user_tz, lang, dt)}"


def slot_text(slot: Slot, lang: str, client_tz: str, user_tz: str) -> str:
    """A proposed slot as its start, in the client's zone (and the user's beside)."""
    return when_text(slot.start, lang, client_tz, user_tz)


def duration_text(minutes: int, lang: str) -> str:
    """A length: "45 minutes", "2 hours", "1 hour 30 minutes" ("90 minutes" below 2 h)."""
    lang = _lang(lang)
    minutes = max(int(minutes), 0)
    hours, mins = divmod(minutes, 60)
    unit_min = {"en": "minutes", "vi": "phút", "ms": "minit"}[lang]
    if hours == 0 or (mins and minutes < 120):
        return f"{minutes} {unit_min}"
    if lang == "en":
        hour_word = "hour" if hours == 1 else "hours"
    else:
        # vi "giờ" after a number reads as a clock time; a length is "tiếng"
        hour_word = {"vi": "tiếng", "ms": "jam"}[lang]
    text = f"{hours} {hour_word}"
    if mins:
        text += f" {mins} {unit_min}"
    return text
