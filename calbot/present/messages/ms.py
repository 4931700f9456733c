"""Malay: a text for every code English has, with the same placeholders."""

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
    "factor.tier_key": "pelanggan utama: dilindungi, skor didarab {weight:g}",
    "factor.tier_low": "pelanggan keutamaan rendah: skor didarab {weight:g}",
    "factor.tier_other": "peringkat pelanggan: skor didarab {weight:g}",
    "factor.capped": "{detail} (0-100)",
    # why a decision (`calbot explain`, `--json` "why"): the rules tried, in order
    "why.past": "sudah bermula atau sudah berlalu",
    "why.below_act_at": "skor {score} di bawah act_at {act_at}",
    "why.chosen": "{steps}",
    "why.nothing_fits": "tiada yang sesuai — {steps}",
    "why.step": "{action}: {reason}",
    "why.action_delegate": "wakilkan",
    "why.action_call": "telefon",
    "why.action_email": "e-mel",
    "why.action_shorten": "pendekkan",
    "why.action_reschedule": "tukar jadual",
    "why.action_boundary": "hadkan masa",
    "why.goodwill_spent": "{client} sudah pun diminta menukar jadual atau membatalkan mesyuarat",
    "why.delegate_fits": "{who} turut hadir dan boleh menggantikan anda",
    "why.delegate_no": "tiada rakan sepasukan yang hadir, atau anda penganjur dan wajib hadir",
    "why.call_fits": "mesyuarat bersemuka, jadi panggilan menjimatkan perjalanan",
    "why.call_no": "bukan mesyuarat bersemuka",
    "why.email_key": "pelanggan utama tidak pernah diberi e-mel sebagai ganti mesyuarat",
    "why.email_fits": (
        "mesyuarat berulang tanpa agenda, jadi kemas kini melalui e-mel sudah memadai"
    ),
    "why.email_no": "bukan mesyuarat berulang tanpa agenda",
    "why.shorten_fits": "{minutes} minit boleh dipendekkan kepada {length} minit",
    "why.shorten_no": "tidak melebihi {limit} minit",
    "why.reschedule_within": "hari dan minggu itu masih dalam had",
    "why.reschedule_no_slots": "kurang daripada 2 slot kosong pada hari yang lebih lapang",
    "why.reschedule_too_soon": "mesyuarat ini bermula dalam tempoh notis ({notice})",
    "why.reschedule_no_shared_hours": (
        "waktu kerja anda dan waktu kerja {client} tidak bertindih pada mana-mana hari yang disemak"
    ),
    "why.reschedule_fits": (
        "hari itu melebihi had, dan ada {count} slot pada hari yang lebih lapang"
    ),
    "why.boundary_fits": "pelanggan suka berbual panjang, jadi hadkan masa",
    "why.boundary_no": "bukan pelanggan yang suka berbual panjang",
    "why.no_rule": "tiada peraturan",
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
    "review.held": "dikhaskan untuk",
    "review.held_note": (
        "Masa ini ditawarkan dalam draf di bawah dan dikhaskan untuknya: calbot tidak "
        "menawarkannya kepada orang lain."
    ),
    "review.calendar": (
        "Cadangan calbot: satu acara bagi setiap draf balasan, di sebelah mesyuarat "
        "berkaitan. Hanya anda yang melihat kalendar ini; calbot tidak pernah "
        "menghantar apa-apa."
    ),
    # the morning digest (`calbot digest`, its e-mail and HTML)
    "digest.title": "calbot — ringkasan pagi, {day}",
    "digest.since": "sejak ringkasan lepas, {when}",
    "digest.new_since": "Draf baharu sejak ringkasan lepas ({n})",
    "digest.new_first": "Draf yang menunggu semakan anda ({n})",
    "digest.waiting": "Masih menunggu semakan anda ({n})",
    "digest.older": "{n} draf lama masih menunggu semakan — `calbot digest --all`"
    " menyenaraikan kesemuanya",
    "digest.older_one": (
        "1 draf lama masih menunggu semakan — `calbot digest --all` menyenaraikannya"
    ),
    "digest.nothing_new": "Tiada draf baharu sejak ringkasan lepas.",
    "digest.nothing_pending": "Tiada draf yang menunggu semakan anda.",
    "digest.edited": "anda telah menyunting draf ini — calbot tidak akan mengusiknya",
    "digest.gone": "Dipadam atau dihantar oleh anda ({n})",
    "digest.chart": "Mesyuarat sehari, dua minggu akan datang (had {limit} sehari)",
    "digest.chart_key": (
        "selepas: apabila semua draf dihantar dan diterima (mesyuarat yang dipindahkan "
        "dikira pada slot pertama yang ditawarkan)"
    ),
    "digest.after": "selepas",
    "digest.calls": (
        "Panggilan menjimatkan masa perjalanan, bukan masa mesyuarat: harinya kekal sama."
    ),
    "digest.holds": "dikhaskan",
    "digest.held": (
        "{n} slot yang ditawarkan dikhaskan untuk draf anda: calbot tidak menawarkannya "
        "kepada orang lain."
    ),
    "digest.held_one": (
        "1 slot yang ditawarkan dikhaskan untuk draf anda: calbot tidak menawarkannya "
        "kepada orang lain."
    ),
    "digest.over": "melebihi had",
    "digest.today": "hari ini",
    "digest.meetings": "{n} mesyuarat",
    "digest.meetings_one": "1 mesyuarat",
    "digest.win_this": "Jika anda menghantar semua draf, anda mendapat semula {hours} minggu ini",
    "digest.win_next": "dan {hours} minggu depan",
    "digest.win_only_next": "Jika anda menghantar semua draf, anda mendapat semula {hours}"
    " minggu depan",
    "digest.saves": "menjimatkan {hours}",
    "digest.trouble": "Masalah sejak ringkasan lepas",
    "digest.trouble_first": "Masalah dalam 24 jam yang lalu",
    "digest.no_trouble": "Tiada masalah: kesemua {n} imbasan berjalan lancar.",
    "digest.no_trouble_one": "Tiada masalah: imbasan berjalan lancar.",
    "digest.fix": "penyelesaian",
    "digest.times": "{n} kali, kali terakhir pada {when}",
    "digest.at": "pada {when}",
    "digest.last_scan": "Imbasan berjaya terakhir: {when}",
    "digest.event": "acara",
    "digest.sink_gmail": "draf Gmail",
    "digest.sink_outbox": "fail",
    "digest.status_new": "baharu",
    "digest.status_updated": "dikemas kini",
    "digest.status_sent": "telah dihantar",
    "digest.sink_imap": "draf IMAP",
    "digest.action_delegate": "wakilkan kepada rakan sepasukan",
    "digest.action_call": "telefon sahaja",
    "digest.action_email": "e-mel sahaja",
    "digest.action_shorten": "pendekkan",
    "digest.action_reschedule": "tukar jadual",
    "digest.action_boundary": "hadkan masa",
    "digest.trouble_failed": "satu imbasan gagal",
    "digest.trouble_auth": "akses Google telah tamat tempoh atau dibatalkan",
    "digest.trouble_auth_caldav": "pelayan CalDAV menolak kata laluan calbot",
    "digest.trouble_auth_imap": "pelayan IMAP menolak kata laluan calbot",
    "digest.trouble_google_down": "Google tidak dapat dihubungi atau bermasalah",
    "digest.trouble_locked": "proses calbot lain sedang memegang stor data, jadi satu imbasan"
    " dilangkau",
    "digest.trouble_warning": "amaran",
    "digest.trouble_expiry": "akses Google akan tamat tidak lama lagi",
    "digest.trouble_access_check": "fail token tidak dapat dibaca untuk menyemak bila akses tamat",
    "digest.trouble_stale": "tiada imbasan sejak {when}",
    "digest.trouble_delivery": "ringkasan tidak dapat disimpan dalam Gmail",
    "digest.fix_failed": "semak log, atau jalankan `calbot scan` untuk melihat ralatnya",
    "digest.fix_auth": "jalankan `calbot auth`",
    "digest.fix_auth_caldav": "semak kata laluan CalDAV (caldav.password_file atau"
    " $CALBOT_CALDAV_PASSWORD)",
    "digest.fix_auth_imap": "semak kata laluan IMAP ([imap] password_file atau"
    " $CALBOT_IMAP_PASSWORD)",
    "digest.fix_google_down": "tiada tindakan diperlukan: calbot akan mencuba semula sendiri pada"
    " imbasan seterusnya",
    "digest.fix_locked": "tiada tindakan diperlukan jika berlaku sekali; jika berulang, periksa"
    " sama ada ada proses calbot yang tersangkut",
    "digest.fix_expiry": "jalankan `calbot auth` sekali lagi, atau terbitkan aplikasi",
    "digest.fix_warning": "calbot melangkau item ini; semak acara itu dalam kalendar anda jika ia"
    " penting",
    "digest.fix_access_check": "jalankan `calbot doctor`",
    "digest.fix_stale": "mulakan proses latar (`calbot run` atau unit systemd), atau jalankan"
    " `calbot scan`",
    "digest.fix_delivery": "calbot akan mencuba Gmail sekali lagi pada ringkasan seterusnya",
    "digest.fix_team": "pentadbir calbot anda dapat melihat puncanya dan cara membaikinya"
    " dalam `calbot team status`",
    "digest.subject": "calbot: {n} balasan untuk disemak — {day}",
    "digest.subject_one": "calbot: 1 balasan untuk disemak — {day}",
    "digest.subject_none": "calbot: tiada apa-apa untuk disemak — {day}",
    "digest.saved_html": "Ringkasan disimpan di {path}",
    "digest.saved_gmail": "Ringkasan disimpan dalam draf Gmail anda: {subject}",
    "digest.updated_gmail": "Ringkasan dalam draf Gmail anda dikemas kini: {subject}",
    "digest.edited_gmail": "Anda telah menyunting ringkasan hari ini dalam Gmail, jadi calbot"
    " membiarkannya",
    "digest.saved_outbox": "Ringkasan ditulis ke peti keluar: {path}",
    # a scan's warnings and the adapters' (stderr, `--json` "warnings", the run log, the
    # digest)
    "warn.no_draft": "{meeting}: draf tidak dapat dibuat: {error}",
    "warn.testing_expiry": "Google akan menamatkan akses calbot pada {when} (aplikasi OAuth "
    "berstatus Testing: token penyegaran hanya sah 7 hari) — jalankan `calbot auth` sekali "
    "lagi, atau terbitkan aplikasi",
    "warn.ics_outputs": 'Draf Gmail dan nota kalendar memerlukan source.kind = "google"; '
    "dengan kalendar ICS, draf hanya disimpan ke peti keluar",
    "warn.nobody_to_write_to": "{meeting}: tiada penerima — tiada draf",
    "warn.not_written": "{meeting}: gagal ditulis: {error}",
    "warn.item_skipped": "{calendar}: melangkau {problem}",
    "warn.item_without_id": "{item} dilangkau: tiada id",
    "warn.calendar_not_found": (
        "{calendar}: kalendar tidak ditemui atau tidak dikongsi dengan anda — dilangkau"
    ),
    "warn.no_busy_times": "{calendar}: tiada waktu sibuk dalam jawapan Google — tidak dikira",
    "warn.busy_unavailable": (
        "{calendar}: waktu sibuk tidak dapat diperoleh ({reasons}) — tidak dikira"
    ),
    "warn.note_skipped": "nota kalendar untuk {event} dilangkau: {problem} ({status})",
    "warn.note_clearing_skipped": (
        "nota kalendar untuk {event} tidak dapat dipadam: {problem} ({status})"
    ),
    "warn.event_gone": "acara itu sudah tiada",
    "warn.copy_not_yours": "anda tidak dibenarkan mengubah salinan acara ini",
    "warn.note_refused": "Google menolak perubahan itu; akan dicuba semula pada imbasan seterusnya",
    "warn.ics_skipped": "{calendar}: {event} dilangkau: {why}",
    "warn.ics_unreadable_lines": (
        "{calendar}: {event}: baris {lines} tidak dapat dibaca, jadi diabaikan"
    ),
    "warn.ics_bad_value": "nilai {name} tidak sah ({error})",
    "warn.ics_no_start": "tiada DTSTART",
    "warn.ics_not_a_date": "{name} bukan tarikh atau tarikh dan masa",
    "warn.ics_not_a_duration": "DURATION bukan tempoh masa",
    "warn.ics_unusable_date": "tarikh tidak boleh digunakan ({error})",
    "warn.ics_cannot_expand": "kejadian berulang tidak dapat dikira ({error})",
    "warn.ics_bad_recurrence": "peraturan ulangan tidak sah ({error})",
    "warn.ics_unusable_time": "masa salah satu kejadian tidak boleh digunakan ({error})",
    "warn.ics_too_many_occurrences": (
        "{calendar}: {event} berulang lebih daripada {limit} kali dalam hari yang diimbas; "
        "hanya {limit} yang pertama dibaca"
    ),
    "warn.ends_before_start": "tamat sebelum bermula",
    "warn.event_unusable_times": "{event} dilangkau: masanya tidak boleh digunakan ({problem})",
}
