"""The digest for people: terminal text (rich), plain text (pipes, the e-mail body) and an
HTML document (the state dir's `digest.html`, the e-mail's HTML part).

Everything in a `Digest` that came from a calendar or a server — titles, client names,
reasons, links, error lines — is untrusted: on the terminal and in plain text its control
characters (escape sequences, CR, bidi overrides) are removed; in HTML it is escaped with
`html.escape`, and only http(s) and file links become `href`s. The fixed words come from
the phrase table below, in `user.language` (en, vi, ms).
"""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from calbot.core.digest import DayBar, Digest, DigestItem, DraftLink, Trouble, TroubleKind
from calbot.core.untrusted import one_line
from calbot.present.messages import day_label, hours

# --- the words -----------------------------------------------------------------------------

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


# --- shared pieces -------------------------------------------------------------------------

BAR_WIDTH = 20
_EIGHTHS = " ▏▎▍▌▋▊▉"


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
    return say(lang, f"status_{item.status}") if item.status in ("new", "updated") else ""


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


def _scale(bars: tuple[DayBar, ...]) -> float:
    """Minutes at a full bar: room above the limit, or the busiest day."""
    return max([60.0, *(b.limit_minutes * 1.25 for b in bars), *(b.minutes for b in bars)])


def text_bar(bar: DayBar, scale: float, width: int = BAR_WIDTH) -> str:
    """Block characters in eighths; `┆` marks the limit when the bar stops short of it."""
    eighths = round(min(bar.minutes, scale) / scale * width * 8)
    full, part = divmod(eighths, 8)
    cells = ["█"] * full + ([_EIGHTHS[part]] if part else [])
    cells += [" "] * (width - len(cells))
    limit_col = min(round(bar.limit_minutes / scale * width), width - 1)
    if cells[limit_col] == " ":
        cells[limit_col] = "┆"
    return "".join(cells)


# --- text: plain and terminal ----------------------------------------------------------------

Span = tuple[str, str]  # (text, style name)
Line = list[Span]

_RICH_STYLES = {
    "title": "bold",
    "heading": "bold underline",
    "dim": "dim",
    "win": "bold green",
    "bad": "bold red",
    "warn": "yellow",
    "tag": "cyan",
    "link": "blue",
    "": "",
}


def text_lines(d: Digest) -> list[Line]:
    """The digest as styled lines; `render_plain` and `print_terminal` share them."""
    lang = d.language
    out: list[Line] = [[(say(lang, "title", day=day_label(d.now.date(), lang)), "title")]]
    if d.since is not None:
        out.append([(say(lang, "since", when=moment(d.since, lang)), "dim")])
    line = win_back(d)
    if line:
        out += [[], [(line, "win")]]

    out.append([])
    heading = "new_since" if d.since is not None else "new_first"
    out.append([(say(lang, heading, n=len(d.new)), "heading")])
    if not d.new:
        none = "nothing_new" if d.since is not None else "nothing_pending"
        out.append([("  " + say(lang, none), "dim")])
    for item in d.new:
        out += _item_lines(item, lang)
    if d.waiting:
        out += [[], [(say(lang, "waiting", n=len(d.waiting)), "heading")]]
        for item in d.waiting:
            out += _item_lines(item, lang)
    if d.older_pending:
        out += [[], [(counted(lang, "older", d.older_pending), "dim")]]
    if d.gone:
        out += [[], [(say(lang, "gone", n=len(d.gone)), "heading")]]
        for item in d.gone:
            out += _item_lines(item, lang, brief=True)

    if d.week:
        limit = hours(d.week[0].limit_minutes, lang)
        out += [[], [(say(lang, "week", limit=limit), "heading")]]
        scale = _scale(d.week)
        labels = [day_label(b.day, lang) for b in d.week]
        pad = max(len(label) for label in labels)
        for bar, label in zip(d.week, labels, strict=True):
            style = "bad" if bar.over else ""
            row: Line = [(f"  {label:<{pad}}  ", "bold" if bar.is_today else "")]
            row += [(text_bar(bar, scale), style)]
            meetings = counted(lang, "meetings", bar.count)
            row += [(f"  {hours(bar.minutes, lang):>7}  {meetings}", "")]
            if bar.over:
                row += [(f"  ! {say(lang, 'over')}", "bad")]
            out.append(row)

    out += _trouble_lines(d)
    if d.last_scan is not None:
        out += [[], [(say(lang, "last_scan", when=moment(d.last_scan, lang)), "dim")]]
    return out


def _item_lines(item: DigestItem, lang: str, *, brief: bool = False) -> list[Line]:
    head: Line = [
        (f"  {time_span(item, lang)}  ", "bold"),
        (f"{one_line(item.client, 80)} · {action_label(item.action, lang)}", ""),
    ]
    tag = status_label(item, lang)
    if tag and not brief:
        head.append((f"  [{tag}]", "tag"))
    lines: list[Line] = [head, [("    " + one_line(item.summary, 120), "")]]
    if brief:
        return lines
    reason = one_line(item.reason, 300)
    if item.saved_minutes > 0:
        saves = say(lang, "saves", hours=hours(item.saved_minutes, lang))
        reason = f"{reason} · {saves}" if reason else saves
    if reason:
        lines.append([("    " + reason, "dim")])
    if item.edited:
        lines.append([("    ! " + say(lang, "edited"), "warn")])
    if item.event_link:
        lines.append([(f"    {say(lang, 'event')}: ", ""), (one_line(item.event_link), "link")])
    for link in item.drafts:
        target = one_line(link.target, 500)
        lines.append(
            [(f"    {draft_label(link, lang)}: ", ""), (target or one_line(link.ref), "link")]
        )
    return lines


def _trouble_lines(d: Digest) -> list[Line]:
    lang = d.language
    out: list[Line] = [[]]
    heading = "trouble" if d.since is not None else "trouble_first"
    if not d.trouble:
        if d.scans:
            out.append([(counted(lang, "no_trouble", d.scans), "dim")])
            return out
        return []
    out.append([(say(lang, heading), "heading")])
    for t in d.trouble:
        what, when, fix = trouble_parts(t, lang)
        line: Line = [("  ! " + what, "bad")]
        if when:
            line.append((f" ({when})", "dim"))
        if t.detail:
            line.append((": " + one_line(t.detail, 400), ""))
        out.append(line)
        out.append([(f"    {say(lang, 'fix')}: {fix}", "warn")])
    return out


def render_plain(d: Digest) -> str:
    """The digest as plain text (no escape codes): for pipes and the e-mail body."""
    return "\n".join("".join(text for text, _ in line) for line in text_lines(d)) + "\n"


def print_terminal(d: Digest, out: TextIO, notes: list[str] | None = None) -> None:
    """The digest on a terminal, with colour via rich; untrusted text goes in as `Text`, so
    rich reads no markup in it."""
    from rich.console import Console
    from rich.text import Text

    console = Console(file=out, highlight=False, emoji=False, markup=False, soft_wrap=True)
    for line in text_lines(d):
        console.print(Text.assemble(*((text, _RICH_STYLES.get(s, s)) for text, s in line)))
    for note in notes or ():
        console.print(Text(one_line(note, 1000), style="dim"))


# --- HTML ----------------------------------------------------------------------------------

_CSS_BODY = (
    "font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#222;"
    "max-width:720px;margin:24px auto;padding:0 16px;line-height:1.45"
)
_CSS_ITEM = "border-left:3px solid #4a78c2;padding:4px 12px;margin:10px 0"
_CSS_DIM = "color:#666"
_CSS_BAD = "color:#b3261e;font-weight:bold"


def esc(text: str, limit: int = 300) -> str:
    return html.escape(one_line(text, limit), quote=True)


def href(target: str) -> str:
    """An escaped href for an http(s) URL or an absolute file path; "" for anything else
    (a `javascript:` link in a calendar event stays text)."""
    if urlsplit(target).scheme in ("http", "https"):
        return html.escape(target, quote=True)
    path = Path(target)
    if path.is_absolute():
        return html.escape(path.as_uri(), quote=True)
    return ""


def _link(label: str, target: str) -> str:
    url = href(one_line(target, 2000))
    text = esc(target, 500)
    return f'{esc(label)}: <a href="{url}">{text}</a>' if url else f"{esc(label)}: {text}"


def render_html(d: Digest) -> str:
    """A standalone HTML document (inline styles only: it doubles as an e-mail body)."""
    lang = d.language
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(lang, 8)}"><head><meta charset="utf-8">',
        f"<title>{esc(subject(d))}</title></head>",
        f'<body style="{_CSS_BODY}">',
        f'<h1 style="font-size:1.4em">{esc(say(lang, "title", day=day_label(d.now.date(), lang)))}'
        "</h1>",
    ]
    if d.since is not None:
        parts.append(_dim_p(say(lang, "since", when=moment(d.since, lang))))
    line = win_back(d)
    if line:
        parts.append(f'<p style="font-size:1.15em;color:#1b6e20"><b>{esc(line)}</b></p>')
    heading = "new_since" if d.since is not None else "new_first"
    parts.append(f"<h2>{esc(say(lang, heading, n=len(d.new)))}</h2>")
    if not d.new:
        none = "nothing_new" if d.since is not None else "nothing_pending"
        parts.append(_dim_p(say(lang, none)))
    parts += [_html_item(item, lang) for item in d.new]
    if d.waiting:
        parts.append(f"<h2>{esc(say(lang, 'waiting', n=len(d.waiting)))}</h2>")
        parts += [_html_item(item, lang) for item in d.waiting]
    if d.older_pending:
        parts.append(_dim_p(counted(lang, "older", d.older_pending)))
    if d.gone:
        parts.append(f"<h2>{esc(say(lang, 'gone', n=len(d.gone)))}</h2>")
        parts += [_html_item(item, lang, brief=True) for item in d.gone]
    if d.week:
        parts += _html_week(d)
    parts += _html_trouble(d)
    if d.last_scan is not None:
        parts.append(_dim_p(say(lang, "last_scan", when=moment(d.last_scan, lang))))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _dim_p(text: str) -> str:
    return f'<p style="{_CSS_DIM}">{esc(text)}</p>'


def _html_item(item: DigestItem, lang: str, *, brief: bool = False) -> str:
    tag = status_label(item, lang)
    rows = [
        f"<div><b>{esc(time_span(item, lang))}</b> · {esc(item.client, 80)} · "
        f"<b>{esc(action_label(item.action, lang))}</b>"
        + (f' <span style="color:#1f6f8b">[{esc(tag)}]</span>' if tag and not brief else "")
        + "</div>",
        f"<div>{esc(item.summary, 200)}</div>",
    ]
    if not brief:
        reason = esc(item.reason)
        if item.saved_minutes > 0:
            saves = esc(say(lang, "saves", hours=hours(item.saved_minutes, lang)))
            reason = f"{reason} · {saves}" if reason else saves
        if reason:
            rows.append(f'<div style="{_CSS_DIM}">{reason}</div>')
        if item.edited:
            rows.append(f'<div style="color:#8a5a00">⚠ {esc(say(lang, "edited"))}</div>')
        if item.event_link:
            rows.append(f"<div>{_link(say(lang, 'event'), item.event_link)}</div>")
        for link in item.drafts:
            label = draft_label(link, lang)
            if link.target:
                rows.append(f"<div>{_link(label, link.target)}</div>")
            else:
                rows.append(f"<div>{esc(label)}: {esc(link.ref)}</div>")
    return f'<div style="{_CSS_ITEM}">' + "".join(rows) + "</div>"


def _html_week(d: Digest) -> list[str]:
    lang = d.language
    limit = hours(d.week[0].limit_minutes, lang)
    parts = [f"<h2>{esc(say(lang, 'week', limit=limit))}</h2>", "<div>"]
    scale = _scale(d.week)
    for bar in d.week:
        width = min(bar.minutes, scale) / scale * 100
        mark = bar.limit_minutes / scale * 100
        color = "#c9463d" if bar.over else "#4a78c2"
        label = esc(day_label(bar.day, lang))
        if bar.is_today:
            label = f"<b>{label}</b>"
        over = f' <span style="{_CSS_BAD}">⚠ {esc(say(lang, "over"))}</span>' if bar.over else ""
        parts.append(
            '<div style="display:flex;align-items:center;margin:3px 0">'
            f'<div style="width:9em">{label}</div>'
            '<div style="position:relative;width:260px;height:14px;background:#eef1f5">'
            f'<div style="width:{width:.1f}%;height:14px;background:{color}"></div>'
            f'<div style="position:absolute;left:{mark:.1f}%;top:-3px;height:20px;'
            'border-left:2px dashed #333"></div></div>'
            f'<div style="margin-left:10px">{esc(hours(bar.minutes, lang))} · '
            f"{esc(counted(lang, 'meetings', bar.count))}{over}</div></div>"
        )
    parts.append("</div>")
    return parts


def _html_trouble(d: Digest) -> list[str]:
    lang = d.language
    if not d.trouble:
        if d.scans:
            return [_dim_p(counted(lang, "no_trouble", d.scans))]
        return []
    heading = "trouble" if d.since is not None else "trouble_first"
    parts = [f"<h2>{esc(say(lang, heading))}</h2>", "<ul>"]
    for t in d.trouble:
        what, when, fix = trouble_parts(t, lang)
        text = f'<span style="{_CSS_BAD}">{esc(what)}</span>'
        if when:
            text += f' <span style="{_CSS_DIM}">({esc(when)})</span>'
        if t.detail:
            text += f": {esc(t.detail, 400)}"
        text += f"<br><i>{esc(say(lang, 'fix'))}: {esc(fix)}</i>"
        parts.append(f"<li>{text}</li>")
    parts.append("</ul>")
    return parts
