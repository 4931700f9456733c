"""The digest as text: plain (pipes, the e-mail body) and on a terminal (rich). Untrusted
text loses its control characters (escape sequences, CR, bidi overrides) on the way."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from calbot.core.digest import Digest, DigestItem
from calbot.core.digest_chart import ChartDay, DayBar
from calbot.core.untrusted import one_line
from calbot.core.vocab import DraftStatus
from calbot.present.digest_words import (
    action_label,
    counted,
    draft_label,
    held_slots,
    moment,
    phrase,
    status_label,
    subject,
    time_span,
    trouble_parts,
    win_back,
)
from calbot.present.messages import day_label, hours

BAR_WIDTH = 20
_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar_scale(chart: Iterable[ChartDay]) -> float:
    """Minutes at a full bar: room above the limit, or the busiest day (before or after)."""
    bars = [bar for day in chart for bar in (day.before, day.after)]
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
    out: list[Line] = [[(phrase(lang, "title", day=day_label(d.now.date(), lang)), "title")]]
    if d.since is not None:
        out.append([(phrase(lang, "since", when=moment(d.since, lang)), "dim")])
    line = win_back(d)
    if line:
        out += [[], [(line, "win")]]
    if d.held_slots:
        if not line:
            out.append([])
        out.append([(counted(lang, "held", d.held_slots), "dim")])

    out.append([])
    heading = "new_since" if d.since is not None else "new_first"
    out.append([(phrase(lang, heading, n=len(d.new)), "heading")])
    if not d.new:
        none = "nothing_new" if d.since is not None else "nothing_pending"
        out.append([("  " + phrase(lang, none), "dim")])
    for item in d.new:
        out += _item_lines(item, lang)
    if d.waiting:
        out += [[], [(phrase(lang, "waiting", n=len(d.waiting)), "heading")]]
        for item in d.waiting:
            out += _item_lines(item, lang)
    if d.older_pending:
        out += [[], [(counted(lang, "older", d.older_pending), "dim")]]
    if d.gone:
        out += [[], [(phrase(lang, "gone", n=len(d.gone)), "heading")]]
        for item in d.gone:
            out += _item_lines(item, lang, brief=True)

    out += _chart_lines(d)
    out += _trouble_lines(d)
    if d.last_scan is not None:
        out += [[], [(phrase(lang, "last_scan", when=moment(d.last_scan, lang)), "dim")]]
    return out


def _item_lines(item: DigestItem, lang: str, *, brief: bool = False) -> list[Line]:
    head: Line = [
        (f"  {time_span(item, lang)}  ", "bold"),
        (f"{one_line(item.client, 80)} · {action_label(item.action, lang)}", ""),
    ]
    tag = status_label(item, lang)
    if tag:  # a brief (gone) item shows one only when it is known sent
        head.append((f"  [{tag}]", "tag"))
    lines: list[Line] = [head, [("    " + one_line(item.summary, 120), "")]]
    if brief:
        return lines
    reason = one_line(item.reason, 300)
    if item.saved_minutes > 0:
        saves = phrase(lang, "saves", hours=hours(item.saved_minutes, lang))
        reason = f"{reason} · {saves}" if reason else saves
    if reason:
        lines.append([("    " + reason, "dim")])
    if item.holds:
        lines.append([(f"    {phrase(lang, 'holds')}: {held_slots(item, lang)}", "")])
    if item.edited:
        lines.append([("    ! " + phrase(lang, "edited"), "warn")])
    if item.event_link:
        lines.append([(f"    {phrase(lang, 'event')}: ", ""), (one_line(item.event_link), "link")])
    for link in item.drafts:
        target = one_line(link.target, 500)
        lines.append(
            [(f"    {draft_label(link, lang)}: ", ""), (target or one_line(link.ref), "link")]
        )
    return lines


def _chart_lines(d: Digest) -> list[Line]:
    """The load chart: one row per day as it is; under a day the drafts change, a second
    row with its load once they are accepted."""
    if not d.chart:
        return []
    lang = d.language
    limit = hours(d.chart[0].before.limit_minutes, lang)
    out: list[Line] = [[], [(phrase(lang, "chart", limit=limit), "heading")]]
    scale = bar_scale(d.chart)
    labels = [day_label(c.day, lang) for c in d.chart]
    after = "→ " + phrase(lang, "after")
    pad = max(len(after), *(len(label) for label in labels))
    for day, label in zip(d.chart, labels, strict=True):
        out.append(_bar_row(day.before, f"{label:<{pad}}", scale, lang, bold=day.before.is_today))
        if day.changes:
            out.append(_bar_row(day.after, f"{after:>{pad}}", scale, lang))
    if any(day.changes for day in d.chart):
        out.append([("  " + phrase(lang, "chart_key"), "dim")])
    if d.pending_calls:
        out.append([("  " + phrase(lang, "calls"), "dim")])
    return out


def _bar_row(bar: DayBar, label: str, scale: float, lang: str, *, bold: bool = False) -> Line:
    row: Line = [(f"  {label}  ", "bold" if bold else "")]
    row += [(text_bar(bar, scale), "bad" if bar.over else "")]
    meetings = counted(lang, "meetings", bar.count)
    row += [(f"  {hours(bar.minutes, lang):>7}  {meetings}", "")]
    if bar.over:
        row += [(f"  ! {phrase(lang, 'over')}", "bad")]
    return row


def _trouble_lines(d: Digest) -> list[Line]:
    lang = d.language
    out: list[Line] = [[]]
    heading = "trouble" if d.since is not None else "trouble_first"
    if not d.trouble:
        if d.scans:
            out.append([(counted(lang, "no_trouble", d.scans), "dim")])
            return out
        return []
    out.append([(phrase(lang, heading), "heading")])
    for t in d.trouble:
        what, when, fix = trouble_parts(t, lang, team=d.team)
        line: Line = [("  ! " + what, "bad")]
        if when:
            line.append((f" ({when})", "dim"))
        if t.detail:
            line.append((": " + one_line(t.detail, 400), ""))
        out.append(line)
        out.append([(f"    {phrase(lang, 'fix')}: {fix}", "warn")])
    return out


def render_plain(d: Digest) -> str:
    """The digest as plain text (no escape codes): for pipes and the e-mail body."""
    return "\n".join("".join(text for text, _ in line) for line in text_lines(d)) + "\n"


def print_terminal(d: Digest, out: TextIO, notes: list[str] | None = None) -> None:
    """The digest on a terminal, with colour via rich; untrusted text goes in as `Text`, so
    rich reads no markup in it."""
    # imported here: rich takes a while to load, and pipes and the worker never need it
    from rich.console import Console
    from rich.text import Text

    console = Console(file=out, highlight=False, emoji=False, markup=False, soft_wrap=True)
    for line in text_lines(d):
        console.print(Text.assemble(*((text, _RICH_STYLES.get(s, s)) for text, s in line)))
    for note in notes or ():
        console.print(Text(one_line(note, 1000), style="dim"))


def delivery_notes(
    d: Digest, *, gmail: DraftStatus | None, eml_path: Path | None, html_path: Path
) -> list[str]:
    """Where the digest `d` went (a Gmail draft left, new or updated, or the user's edit
    left alone; the outbox file; the HTML file), one line each."""
    lang = d.language
    notes = []
    if gmail is not None:
        key = {DraftStatus.NEW: "saved_gmail", DraftStatus.UPDATED: "updated_gmail"}
        notes.append(phrase(lang, key.get(gmail, "edited_gmail"), subject=subject(d)))
    if eml_path is not None:
        notes.append(phrase(lang, "saved_outbox", path=str(eml_path)))
    notes.append(phrase(lang, "saved_html", path=str(html_path)))
    return notes
