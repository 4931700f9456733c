"""The digest's words: the phrase table in `user.language` (en, vi, ms; English for any
other) and the labels, times and sentences that the text and the HTML renderings share.

Everything in a `Digest` that came from a calendar or a server is untrusted: the labels here
pass it through `one_line` (no control characters, escape sequences or bidi overrides);
`digest_html` escapes what it puts in HTML."""

from __future__ import annotations

from datetime import datetime

from calbot.core.digest import Digest, DigestItem, DraftLink, Trouble, TroubleKind
from calbot.core.phrases import day_label, hours
from calbot.core.untrusted import one_line
from calbot.core.vocab import DraftStatus

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "calbot — morning review, {day}",
        "since": "since the last digest, {when}",
        "new_since": "Drafted since the last digest ({n})",
        "new_first": "Drafts waiting for your review ({n})",
        "waiting": "Still waiting for your review ({n})",
        "older": "{n} older drafts still wait for review — `calbot digest --all` lists them",
        "older_one": "1 older draft still waits for review — `calbot digest --all` lists it",
        "nothing_new": "Nothing new drafted since the last digest.",
        "nothing_pending": "No drafts wait for your review.",
        "edited": "you edited this draft — calbot leaves it alone",
        "gone": "You deleted or sent ({n})",
        "week": "This week's meetings (limit {limit} a day)",
        "over": "over",
        "today": "today",
        "meetings": "{n} meetings",
        "meetings_one": "1 meeting",
        "win_this": "If you send every draft, you win back {hours} this week",
        "win_next": "and {hours} next week",
        "win_only_next": "If you send every draft, you win back {hours} next week",
        "saves": "saves {hours}",
        "trouble": "Trouble since the last digest",
        "trouble_first": "Trouble in the last 24 hours",
        "no_trouble": "No trouble: all {n} scans went fine.",
        "no_trouble_one": "No trouble: the scan went fine.",
        "fix": "fix",
        "times": "{n} times, last at {when}",
        "at": "at {when}",
        "last_scan": "Last good scan: {when}",
        "event": "event",
        "sink_gmail": "Gmail draft",
        "sink_outbox": "file",
        "status_new": "new",
        "status_updated": "updated",
        "action_delegate": "delegate",
        "action_call": "call instead",
        "action_email": "e-mail instead",
        "action_shorten": "shorten",
        "action_reschedule": "reschedule",
        "action_boundary": "time box",
        "trouble_failed": "a scan failed",
        "trouble_auth": "Google access expired or was revoked",
        "trouble_google_down": "Google was unreachable or failing",
        "trouble_locked": "another calbot held the state store, so a scan was skipped",
        "trouble_warning": "warning",
        "trouble_expiry": "Google access ends soon",
        "trouble_access_check": "the token file could not be read to check when access ends",
        "trouble_stale": "no scan has run since {when}",
        "trouble_delivery": "the digest could not be left in Gmail",
        "fix_failed": "see the log, or run `calbot scan` to see the error",
        "fix_auth": "run `calbot auth`",
        "fix_google_down": "nothing to do: calbot retries by itself at the next scan",
        "fix_locked": "nothing to do if it happened once; if it keeps happening, look for a"
        " stuck calbot process",
        "fix_expiry": "run `calbot auth` again, or publish the app",
        "fix_warning": "calbot skipped it; check it in your calendar if it matters",
        "fix_access_check": "run `calbot doctor`",
        "fix_stale": "start the worker (`calbot run` or its systemd unit), or run `calbot scan`",
        "fix_delivery": "calbot tries Gmail again with the next digest",
        "subject": "calbot: {n} replies to review — {day}",
        "subject_one": "calbot: 1 reply to review — {day}",
        "subject_none": "calbot: nothing to review — {day}",
        "saved_html": "Digest saved as {path}",
        "saved_gmail": "Left in your Gmail drafts: {subject}",
        "updated_gmail": "Updated in your Gmail drafts: {subject}",
        "edited_gmail": "You edited today's digest in Gmail, so calbot left it as it is",
        "saved_outbox": "Digest written to the outbox: {path}",
    },
    "vi": {
        "title": "calbot — bản tin buổi sáng, {day}",
        "since": "kể từ bản tin trước, {when}",
        "new_since": "Bản nháp mới kể từ bản tin trước ({n})",
        "new_first": "Bản nháp đang chờ bạn xem ({n})",
        "waiting": "Vẫn đang chờ bạn xem ({n})",
        "older": "Còn {n} bản nháp cũ hơn đang chờ bạn xem — xem tất cả bằng `calbot digest --all`",
        "older_one": "Còn 1 bản nháp cũ hơn đang chờ bạn xem — xem bằng `calbot digest --all`",
        "nothing_new": "Không có bản nháp mới nào kể từ bản tin trước.",
        "nothing_pending": "Không có bản nháp nào đang chờ bạn xem.",
        "edited": "bạn đã sửa bản nháp này — calbot sẽ không động vào nó nữa",
        "gone": "Bạn đã xoá hoặc đã gửi ({n})",
        "week": "Lịch họp tuần này (giới hạn {limit} mỗi ngày)",
        "over": "quá giới hạn",
        "today": "hôm nay",
        "meetings": "{n} cuộc họp",
        "meetings_one": "1 cuộc họp",
        "win_this": "Nếu bạn gửi hết các bản nháp, tuần này bạn lấy lại được {hours}",
        "win_next": "và {hours} vào tuần sau",
        "win_only_next": "Nếu bạn gửi hết các bản nháp, tuần sau bạn lấy lại được {hours}",
        "saves": "tiết kiệm {hours}",
        "trouble": "Sự cố kể từ bản tin trước",
        "trouble_first": "Sự cố trong 24 giờ qua",
        "no_trouble": "Không có sự cố: cả {n} lần quét đều suôn sẻ.",
        "no_trouble_one": "Không có sự cố: lần quét đã suôn sẻ.",
        "fix": "cách xử lý",
        "times": "{n} lần, lần cuối lúc {when}",
        "at": "lúc {when}",
        "last_scan": "Lần quét thành công gần nhất: {when}",
        "event": "sự kiện",
        "sink_gmail": "bản nháp Gmail",
        "sink_outbox": "tệp",
        "status_new": "mới",
        "status_updated": "đã cập nhật",
        "action_delegate": "nhờ đồng nghiệp dự thay",
        "action_call": "gọi điện thay vì gặp mặt",
        "action_email": "trao đổi qua email thay vì họp",
        "action_shorten": "rút ngắn",
        "action_reschedule": "dời lịch",
        "action_boundary": "giới hạn thời gian",
        "trouble_failed": "một lần quét bị lỗi",
        "trouble_auth": "quyền truy cập Google đã hết hạn hoặc bị thu hồi",
        "trouble_google_down": "Google không phản hồi hoặc đang gặp lỗi",
        "trouble_locked": "một tiến trình calbot khác đang giữ kho dữ liệu nên một lần quét"
        " đã bị bỏ qua",
        "trouble_warning": "cảnh báo",
        "trouble_expiry": "quyền truy cập Google sắp hết hạn",
        "trouble_access_check": "không đọc được tệp token để kiểm tra khi nào quyền truy cập"
        " hết hạn",
        "trouble_stale": "chưa có lần quét nào kể từ {when}",
        "trouble_delivery": "không để được bản tin trong Gmail",
        "fix_failed": "xem nhật ký, hoặc chạy `calbot scan` để thấy lỗi",
        "fix_auth": "chạy `calbot auth`",
        "fix_google_down": "không cần làm gì: calbot sẽ tự thử lại ở lần quét sau",
        "fix_locked": "không cần làm gì nếu chỉ xảy ra một lần; nếu cứ lặp lại, hãy xem có"
        " tiến trình calbot nào bị treo không",
        "fix_expiry": "chạy lại `calbot auth`, hoặc xuất bản ứng dụng",
        "fix_warning": "calbot đã bỏ qua mục này; hãy xem lại sự kiện đó trong lịch nếu nó"
        " quan trọng",
        "fix_access_check": "chạy `calbot doctor`",
        "fix_stale": "khởi động tiến trình chạy nền (`calbot run` hoặc dịch vụ systemd), hoặc"
        " chạy `calbot scan`",
        "fix_delivery": "calbot sẽ thử lại với Gmail ở bản tin sau",
        "subject": "calbot: {n} thư trả lời cần bạn xem — {day}",
        "subject_one": "calbot: 1 thư trả lời cần bạn xem — {day}",
        "subject_none": "calbot: không có gì cần xem — {day}",
        "saved_html": "Đã lưu bản tin tại {path}",
        "saved_gmail": "Đã để bản tin trong mục Thư nháp Gmail: {subject}",
        "updated_gmail": "Đã cập nhật bản tin trong mục Thư nháp Gmail: {subject}",
        "edited_gmail": "Bạn đã sửa bản tin hôm nay trong Gmail nên calbot để nguyên",
        "saved_outbox": "Đã ghi bản tin vào hộp thư đi: {path}",
    },
    "ms": {
        "title": "calbot — ringkasan pagi, {day}",
        "since": "sejak ringkasan lepas, {when}",
        "new_since": "Draf baharu sejak ringkasan lepas ({n})",
        "new_first": "Draf yang menunggu semakan anda ({n})",
        "waiting": "Masih menunggu semakan anda ({n})",
        "older": "{n} draf lama masih menunggu semakan — `calbot digest --all`"
        " menyenaraikan kesemuanya",
        "older_one": "1 draf lama masih menunggu semakan — `calbot digest --all` menyenaraikannya",
        "nothing_new": "Tiada draf baharu sejak ringkasan lepas.",
        "nothing_pending": "Tiada draf yang menunggu semakan anda.",
        "edited": "anda telah menyunting draf ini — calbot tidak akan mengusiknya",
        "gone": "Dipadam atau dihantar oleh anda ({n})",
        "week": "Mesyuarat minggu ini (had {limit} sehari)",
        "over": "melebihi had",
        "today": "hari ini",
        "meetings": "{n} mesyuarat",
        "meetings_one": "1 mesyuarat",
        "win_this": "Jika anda menghantar semua draf, anda mendapat semula {hours} minggu ini",
        "win_next": "dan {hours} minggu depan",
        "win_only_next": "Jika anda menghantar semua draf, anda mendapat semula {hours}"
        " minggu depan",
        "saves": "menjimatkan {hours}",
        "trouble": "Masalah sejak ringkasan lepas",
        "trouble_first": "Masalah dalam 24 jam yang lalu",
        "no_trouble": "Tiada masalah: kesemua {n} imbasan berjalan lancar.",
        "no_trouble_one": "Tiada masalah: imbasan berjalan lancar.",
        "fix": "penyelesaian",
        "times": "{n} kali, kali terakhir pada {when}",
        "at": "pada {when}",
        "last_scan": "Imbasan berjaya terakhir: {when}",
        "event": "acara",
        "sink_gmail": "draf Gmail",
        "sink_outbox": "fail",
        "status_new": "baharu",
        "status_updated": "dikemas kini",
        "action_delegate": "wakilkan kepada rakan sepasukan",
        "action_call": "telefon sahaja",
        "action_email": "e-mel sahaja",
        "action_shorten": "pendekkan",
        "action_reschedule": "tukar jadual",
        "action_boundary": "hadkan masa",
        "trouble_failed": "satu imbasan gagal",
        "trouble_auth": "akses Google telah tamat tempoh atau dibatalkan",
        "trouble_google_down": "Google tidak dapat dihubungi atau bermasalah",
        "trouble_locked": "proses calbot lain sedang memegang stor data, jadi satu imbasan"
        " dilangkau",
        "trouble_warning": "amaran",
        "trouble_expiry": "akses Google akan tamat tidak lama lagi",
        "trouble_access_check": "fail token tidak dapat dibaca untuk menyemak bila akses tamat",
        "trouble_stale": "tiada imbasan sejak {when}",
        "trouble_delivery": "ringkasan tidak dapat disimpan dalam Gmail",
        "fix_failed": "semak log, atau jalankan `calbot scan` untuk melihat ralatnya",
        "fix_auth": "jalankan `calbot auth`",
        "fix_google_down": "tiada tindakan diperlukan: calbot akan mencuba semula sendiri pada"
        " imbasan seterusnya",
        "fix_locked": "tiada tindakan diperlukan jika berlaku sekali; jika berulang, periksa"
        " sama ada ada proses calbot yang tersangkut",
        "fix_expiry": "jalankan `calbot auth` sekali lagi, atau terbitkan aplikasi",
        "fix_warning": "calbot melangkau item ini; semak acara itu dalam kalendar anda jika ia"
        " penting",
        "fix_access_check": "jalankan `calbot doctor`",
        "fix_stale": "mulakan proses latar (`calbot run` atau unit systemd), atau jalankan"
        " `calbot scan`",
        "fix_delivery": "calbot akan mencuba Gmail sekali lagi pada ringkasan seterusnya",
        "subject": "calbot: {n} balasan untuk disemak — {day}",
        "subject_one": "calbot: 1 balasan untuk disemak — {day}",
        "subject_none": "calbot: tiada apa-apa untuk disemak — {day}",
        "saved_html": "Ringkasan disimpan di {path}",
        "saved_gmail": "Ringkasan disimpan dalam draf Gmail anda: {subject}",
        "updated_gmail": "Ringkasan dalam draf Gmail anda dikemas kini: {subject}",
        "edited_gmail": "Anda telah menyunting ringkasan hari ini dalam Gmail, jadi calbot"
        " membiarkannya",
        "saved_outbox": "Ringkasan ditulis ke peti keluar: {path}",
    },
}


def say(lang: str, key: str, **values: object) -> str:
    """The phrase `key` in `lang` (English when the language is unknown)."""
    table = TEXT.get(lang, TEXT["en"])
    return table.get(key, TEXT["en"][key]).format(**values)


def counted(lang: str, key: str, n: int, **values: object) -> str:
    """`key_one` for exactly one (where the language has a singular form), else `key`."""
    if n == 1 and f"{key}_one" in TEXT.get(lang, TEXT["en"]):
        return say(lang, f"{key}_one", **values)
    return say(lang, key, n=n, **values)


# --- labels and sentences ----------------------------------------------------------------


def moment(at: datetime | None, lang: str) -> str:
    """'Tue 1 Dec 09:30' (in the datetime's own timezone: the digest's are the user's)."""
    if at is None:
        return ""
    return f"{day_label(at.date(), lang)} {at:%H:%M}"


def time_span(item: DigestItem, lang: str) -> str:
    end = f"{item.end:%H:%M}" if item.end.date() == item.start.date() else moment(item.end, lang)
    return f"{moment(item.start, lang)}–{end}"


def action_label(action: str, lang: str) -> str:
    key = f"action_{action}"
    return say(lang, key) if key in TEXT["en"] else one_line(action, 40)


def status_label(item: DigestItem, lang: str) -> str:
    shown = item.status in (DraftStatus.NEW, DraftStatus.UPDATED)
    return say(lang, f"status_{item.status}") if shown else ""


def draft_label(link: DraftLink, lang: str) -> str:
    """'Gmail draft r-123' (Gmail's link opens the Drafts folder, so the id helps find it);
    'file' for the outbox, whose path says it all."""
    key = f"sink_{link.sink}"
    name = say(lang, key) if key in TEXT["en"] else one_line(link.sink, 40)
    return f"{name} {one_line(link.ref, 80)}" if link.sink == "gmail" else name


def subject(d: Digest) -> str:
    """The e-mail subject: how many replies wait, and the day."""
    day = day_label(d.now.date(), d.language)
    if d.pending == 0:
        return say(d.language, "subject_none", day=day)
    return counted(d.language, "subject", d.pending, day=day)


def win_back(d: Digest) -> str:
    """'If you send every draft, you win back N hours this week (and M next week).'"""
    lang = d.language
    if d.saved_this_week > 0:
        line = say(lang, "win_this", hours=hours(d.saved_this_week, lang))
        if d.saved_next_week > 0:
            line += f" ({say(lang, 'win_next', hours=hours(d.saved_next_week, lang))})"
        return line + "."
    if d.saved_next_week > 0:
        return say(lang, "win_only_next", hours=hours(d.saved_next_week, lang)) + "."
    return ""


def trouble_parts(t: Trouble, lang: str) -> tuple[str, str, str]:
    """(what happened, how often/when, the fix) — the detail is untrusted and not included."""
    if t.kind == TroubleKind.STALE:
        what = say(lang, "trouble_stale", when=moment(t.last, lang))
        return what, "", say(lang, "fix_stale")
    kind = t.kind if f"trouble_{t.kind}" in TEXT["en"] else TroubleKind.FAILED
    what = say(lang, f"trouble_{kind}")
    fix_key = f"fix_{kind}"
    if kind == TroubleKind.WARNING and "calbot auth" in t.detail:
        fix_key = "fix_expiry"
    if kind == TroubleKind.DELIVERY and "calbot auth" in t.detail:
        fix_key = "fix_auth"
    when = ""
    if t.last is not None:
        when = (
            say(lang, "times", n=t.times, when=moment(t.last, lang))
            if t.times > 1
            else say(lang, "at", when=moment(t.last, lang))
        )
    return what, when, say(lang, fix_key)
