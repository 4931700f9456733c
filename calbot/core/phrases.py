"""The sentences calbot writes for the user alone (factor details), in `user.language`.

Drafts to clients come from templates; these are the short reasons shown in `explain`,
private notes and the digest.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

DAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "vi": ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật"),
    "ms": ("Isnin", "Selasa", "Rabu", "Khamis", "Jumaat", "Sabtu", "Ahad"),
}
MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "ms": ("Jan", "Feb", "Mac", "Apr", "Mei", "Jun", "Jul", "Ogo", "Sep", "Okt", "Nov", "Dis"),
}
HOUR_UNIT = {"en": "h", "vi": "giờ", "ms": "jam"}

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "day_load": "{day} has {hours} of meetings, limit {limit}",
        "day_count": "{day} has {count} meetings, limit {limit}",
        "week_load": "week {week} has {hours} of meetings, limit {limit}",
        "no_focus_block": "no free block of {minutes} min left on {day} (longest {longest} min)",
        "long_meeting": "{minutes} min long, over {limit} min",
        "in_person": "in person at {place}: travel both ways",
        "series": "a recurring meeting",
        "repeated": "{count} meetings with {client} that week, limit {limit}",
        "no_agenda": "no agenda in the invitation",
        "optional": "you are marked optional",
        "colleague": "{who} from your team attends too",
        "chatty": "meetings with {client} tend to run over with small talk",
        "outside_hours": "{day} {time} is outside your working hours",
        "tier_key": "key client: protected, ×{weight}",
        "tier_low": "low-priority client, ×{weight}",
        "tier_other": "client tier, ×{weight}",
    },
    "vi": {
        "day_load": "{day} có {hours} họp, giới hạn {limit}",
        "day_count": "{day} có {count} cuộc họp, giới hạn {limit}",
        "week_load": "tuần {week} có {hours} họp, giới hạn {limit}",
        "no_focus_block": "{day} không còn khoảng trống {minutes} phút (dài nhất {longest} phút)",
        "long_meeting": "dài {minutes} phút, quá {limit} phút",
        "in_person": "gặp trực tiếp tại {place}: mất thời gian đi lại",
        "series": "cuộc họp định kỳ",
        "repeated": "{count} cuộc họp với {client} trong tuần đó, giới hạn {limit}",
        "no_agenda": "lời mời không có chương trình họp",
        "optional": "bạn là người tham dự không bắt buộc",
        "colleague": "{who} trong nhóm của bạn cũng tham dự",
        "chatty": "các buổi họp với {client} hay kéo dài vì chuyện ngoài lề",
        "outside_hours": "{day} lúc {time} nằm ngoài giờ làm việc của bạn",
        "tier_key": "khách hàng chủ chốt: được bảo vệ, ×{weight}",
        "tier_low": "khách hàng ưu tiên thấp, ×{weight}",
        "tier_other": "hạng khách hàng, ×{weight}",
    },
    "ms": {
        "day_load": "{day} ada {hours} mesyuarat, had {limit}",
        "day_count": "{day} ada {count} mesyuarat, had {limit}",
        "week_load": "minggu {week} ada {hours} mesyuarat, had {limit}",
        "no_focus_block": "tiada masa lapang {minutes} minit lagi pada {day} "
        "(paling panjang {longest} minit)",
        "long_meeting": "{minutes} minit, melebihi {limit} minit",
        "in_person": "bersemuka di {place}: perlu masa perjalanan pergi dan balik",
        "series": "mesyuarat berulang",
        "repeated": "{count} mesyuarat dengan {client} minggu itu, had {limit}",
        "no_agenda": "tiada agenda dalam jemputan",
        "optional": "kehadiran anda tidak wajib",
        "colleague": "{who} daripada pasukan anda turut hadir",
        "chatty": "mesyuarat dengan {client} selalu berlanjutan dengan perbualan kosong",
        "outside_hours": "{day} pukul {time} di luar waktu kerja anda",
        "tier_key": "pelanggan utama: dilindungi, ×{weight}",
        "tier_low": "pelanggan keutamaan rendah, ×{weight}",
        "tier_other": "peringkat pelanggan, ×{weight}",
    },
}


def say(lang: str, key: str, **values: object) -> str:
    table = TEXT.get(lang, TEXT["en"])
    return table[key].format(**values)


@lru_cache(maxsize=4096)
def day_label(day: date, lang: str = "en") -> str:
    """en 'Tue 1 Dec', vi 'thứ Ba 1/12', ms 'Selasa 1 Dis'."""
    name = DAYS.get(lang, DAYS["en"])[day.weekday()]
    if lang == "vi":
        return f"{name} {day.day}/{day.month}"
    return f"{name} {day.day} {MONTHS.get(lang, MONTHS['en'])[day.month - 1]}"


@lru_cache(maxsize=4096)
def hours(minutes: float, lang: str = "en") -> str:
    """90 → '1.5 h' (en), '1,5 giờ' (vi), '1.5 jam' (ms)."""
    number = f"{minutes / 60:.1f}".rstrip("0").rstrip(".")
    if lang == "vi":
        number = number.replace(".", ",")
    return f"{number} {HOUR_UNIT.get(lang, 'h')}"
