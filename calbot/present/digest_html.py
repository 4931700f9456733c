"""The digest as a standalone HTML document: the state dir's `digest.html` and the e-mail's
HTML part (inline styles only). Untrusted text is escaped with `html.escape`, and only
http(s) and file links become `href`s (a `javascript:` link in an event stays text)."""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import urlsplit

from calbot.core.digest import Digest, DigestItem
from calbot.core.digest_chart import DayBar
from calbot.core.untrusted import one_line
from calbot.present.digest_text import bar_scale
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
    title = phrase(lang, "title", day=day_label(d.now.date(), lang))
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(lang, 8)}"><head><meta charset="utf-8">',
        f"<title>{esc(subject(d))}</title></head>",
        f'<body style="{_CSS_BODY}">',
        f'<h1 style="font-size:1.4em">{esc(title)}</h1>',
    ]
    if d.since is not None:
        parts.append(_dim_p(phrase(lang, "since", when=moment(d.since, lang))))
    line = win_back(d)
    if line:
        parts.append(f'<p style="font-size:1.15em;color:#1b6e20"><b>{esc(line)}</b></p>')
    if d.held_slots:
        parts.append(_dim_p(counted(lang, "held", d.held_slots)))
    heading = "new_since" if d.since is not None else "new_first"
    parts.append(f"<h2>{esc(phrase(lang, heading, n=len(d.new)))}</h2>")
    if not d.new:
        none = "nothing_new" if d.since is not None else "nothing_pending"
        parts.append(_dim_p(phrase(lang, none)))
    parts += [_html_item(item, lang) for item in d.new]
    if d.waiting:
        parts.append(f"<h2>{esc(phrase(lang, 'waiting', n=len(d.waiting)))}</h2>")
        parts += [_html_item(item, lang) for item in d.waiting]
    if d.older_pending:
        parts.append(_dim_p(counted(lang, "older", d.older_pending)))
    if d.gone:
        parts.append(f"<h2>{esc(phrase(lang, 'gone', n=len(d.gone)))}</h2>")
        parts += [_html_item(item, lang, brief=True) for item in d.gone]
    if d.chart:
        parts += _html_chart(d)
    parts += _html_trouble(d)
    if d.last_scan is not None:
        parts.append(_dim_p(phrase(lang, "last_scan", when=moment(d.last_scan, lang))))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _dim_p(text: str) -> str:
    return f'<p style="{_CSS_DIM}">{esc(text)}</p>'


def _html_item(item: DigestItem, lang: str, *, brief: bool = False) -> str:
    tag = status_label(item, lang)
    rows = [
        f"<div><b>{esc(time_span(item, lang))}</b> · {esc(item.client, 80)} · "
        f"<b>{esc(action_label(item.action, lang))}</b>"
        + (f' <span style="color:#1f6f8b">[{esc(tag)}]</span>' if tag else "")
        + "</div>",
        f"<div>{esc(item.summary, 200)}</div>",
    ]
    if not brief:
        reason = esc(item.reason)
        if item.saved_minutes > 0:
            saves = esc(phrase(lang, "saves", hours=hours(item.saved_minutes, lang)))
            reason = f"{reason} · {saves}" if reason else saves
        if reason:
            rows.append(f'<div style="{_CSS_DIM}">{reason}</div>')
        if item.holds:
            held = f"{phrase(lang, 'holds')}: {held_slots(item, lang)}"
            rows.append(f"<div>{esc(held, 1000)}</div>")
        if item.edited:
            rows.append(f'<div style="color:#8a5a00">⚠ {esc(phrase(lang, "edited"))}</div>')
        if item.event_link:
            rows.append(f"<div>{_link(phrase(lang, 'event'), item.event_link)}</div>")
        for link in item.drafts:
            label = draft_label(link, lang)
            if link.target:
                rows.append(f"<div>{_link(label, link.target)}</div>")
            else:
                rows.append(f"<div>{esc(label)}: {esc(link.ref)}</div>")
    return f'<div style="{_CSS_ITEM}">' + "".join(rows) + "</div>"


def _html_chart(d: Digest) -> list[str]:
    """The load chart in CSS bars (no scripts, no images): a row per day as it is, and
    under a day the drafts change a lighter row with its load once they are accepted."""
    lang = d.language
    limit = hours(d.chart[0].before.limit_minutes, lang)
    parts = [f"<h2>{esc(phrase(lang, 'chart', limit=limit))}</h2>", "<div>"]
    scale = bar_scale(d.chart)
    after = esc("→ " + phrase(lang, "after"))
    for day in d.chart:
        label = esc(day_label(day.day, lang))
        if day.before.is_today:
            label = f"<b>{label}</b>"
        parts.append(_html_bar(day.before, label, scale, lang))
        if day.changes:
            parts.append(_html_bar(day.after, after, scale, lang, after=True))
    parts.append("</div>")
    if any(day.changes for day in d.chart):
        parts.append(_dim_p(phrase(lang, "chart_key")))
    if d.pending_calls:
        parts.append(_dim_p(phrase(lang, "calls")))
    return parts


def _html_bar(bar: DayBar, label: str, scale: float, lang: str, *, after: bool = False) -> str:
    """One bar; `label` is HTML already escaped."""
    width = min(bar.minutes, scale) / scale * 100
    mark = bar.limit_minutes / scale * 100
    color = "#c9463d" if bar.over else "#4a78c2"
    if after:  # the load once the drafts are accepted: the same colours, lighter
        color = "#e39a94" if bar.over else "#9db7e0"
    over = f' <span style="{_CSS_BAD}">⚠ {esc(phrase(lang, "over"))}</span>' if bar.over else ""
    align = "text-align:right;padding-right:1em;" if after else ""
    return (
        '<div style="display:flex;align-items:center;margin:3px 0">'
        f'<div style="width:9em;{align}{_CSS_DIM if after else ""}">{label}</div>'
        '<div style="position:relative;width:260px;height:14px;background:#eef1f5">'
        f'<div style="width:{width:.1f}%;height:14px;background:{color}"></div>'
        f'<div style="position:absolute;left:{mark:.1f}%;top:-3px;height:20px;'
        'border-left:2px dashed #333"></div></div>'
        f'<div style="margin-left:10px">{esc(hours(bar.minutes, lang))} · '
        f"{esc(counted(lang, 'meetings', bar.count))}{over}</div></div>"
    )


def _html_trouble(d: Digest) -> list[str]:
    lang = d.language
    if not d.trouble:
        if d.scans:
            return [_dim_p(counted(lang, "no_trouble", d.scans))]
        return []
    heading = "trouble" if d.since is not None else "trouble_first"
    parts = [f"<h2>{esc(phrase(lang, heading))}</h2>", "<ul>"]
    for t in d.trouble:
        what, when, fix = trouble_parts(t, lang, team=d.team)
        text = f'<span style="{_CSS_BAD}">{esc(what)}</span>'
        if when:
            text += f' <span style="{_CSS_DIM}">({esc(when)})</span>'
        if t.detail:
            text += f": {esc(t.detail, 400)}"
        text += f"<br><i>{esc(phrase(lang, 'fix'))}: {esc(fix)}</i>"
        parts.append(f"<li>{text}</li>")
    parts.append("</ul>")
    return parts
