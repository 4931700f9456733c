"""Malay. Codes missing here (why, warnings) are shown in English."""

from __future__ import annotations

DAYS = ("Isnin", "Selasa", "Rabu", "Khamis", "Jumaat", "Sabtu", "Ahad")
MONTHS = ("Jan", "Feb", "Mac", "Apr", "Mei", "Jun", "Jul", "Ogo", "Sep", "Okt", "Nov", "Dis")
HOUR_UNIT = "jam"

TEXT: dict[str, str] = {
    "factor.day_load": "{day} ada {hours} mesyuarat, had {limit}",
    "factor.day_count": "{day} ada {count} mesyuarat, had {limit}",
    "factor.week_load": "minggu {week} ada {hours} mesyuarat, had {limit}",
    "factor.no_focus_block": "tiada masa lapang {minutes} minit lagi pada {day} "
    "(paling panjang {longest} minit)",
    "factor.long_meeting": "{minutes} minit, melebihi {limit} minit",
    "factor.in_person": "bersemuka di {place}: perlu masa perjalanan pergi dan balik",
    "factor.series": "mesyuarat berulang",
    "factor.repeated": "{count} mesyuarat dengan {client} minggu itu, had {limit}",
    "factor.no_agenda": "tiada agenda dalam jemputan",
    "factor.optional": "kehadiran anda tidak wajib",
    "factor.colleague": "{who} daripada pasukan anda turut hadir",
    "factor.chatty": "mesyuarat dengan {client} selalu berlanjutan dengan perbualan kosong",
    "factor.outside_hours": "{day} pukul {time} di luar waktu kerja anda",
    "factor.tier_key": "pelanggan utama: dilindungi, ×{weight:g}",
    "factor.tier_low": "pelanggan keutamaan rendah, ×{weight:g}",
    "factor.tier_other": "peringkat pelanggan, ×{weight:g}",
    "notes.why_line": "Sebab: {reasons} (skor {score}/100, {action})",
    "review.why": "Sebab",
    "review.draft": "Draf balasan — belum dihantar, menunggu semakan anda",
    "review.to": "Kepada",
    "review.cc": "Sk",
    "review.subject": "Subjek",
    "review.notes": "Nota peribadi (hanya anda yang melihatnya)",
    "review.footer": (
        "Hanya anda yang melihat kalendar ini. calbot tidak pernah menghantar apa-apa."
    ),
    "review.untitled": "(tiada tajuk)",
    "review.calendar": (
        "Cadangan calbot: satu acara bagi setiap draf balasan, di sebelah mesyuarat "
        "berkaitan. Hanya anda yang melihat kalendar ini; calbot tidak pernah "
        "menghantar apa-apa."
    ),
}
