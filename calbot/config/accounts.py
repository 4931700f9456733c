"""The `[caldav]` and `[imap]` sections: the accounts of the CalDAV source and the IMAP
drafts sink, each checked fully only when the config uses it."""

from __future__ import annotations

from calbot.config import checks
from calbot.config.settings import CaldavSettings, ImapSettings, Outputs, Source
from calbot.config.table import Table

__all__ = ["caldav_section", "imap_section"]


def caldav_section(t: Table, source: Source) -> CaldavSettings:
    """`[caldav]`: checked always, required when `source.kind = "caldav"`."""
    settings = CaldavSettings(
        url=t.get("url", "", checks.caldav_url),
        username=t.get("username", "", checks.string),
        password_file=t.get("password_file", "", checks.path),
        ca_file=t.get("ca_file", "", checks.path),
    )
    if source.kind == "caldav" and not t.broken:
        if "url" not in t.data:
            t.problem("url", 'required when source.kind = "caldav": the server\'s https:// URL')
        if "username" not in t.data:
            t.problem("username", 'required when source.kind = "caldav": your login name')
    return settings


def imap_section(t: Table, outputs: Outputs, top: Table) -> ImapSettings:
    """`[imap]`, checked fully only when `outputs.imap_drafts` is on; one mail sink per user."""
    d = ImapSettings()
    imap = ImapSettings(
        host=t.get("host", "", checks.string).strip(),
        port=t.get("port", 0, checks.number(True, 1, 65535, False)),
        username=t.get("username", "", checks.string).strip(),
        password_file=t.get("password_file", checks.expand(d.password_file), checks.path),
        security=t.get("security", "tls", checks.choice(("tls", "starttls"), "security")),
        drafts_folder=t.get("drafts_folder", "", checks.string).strip(),
        ca_file=t.get("ca_file", "", checks.path),
    )
    if not outputs.imap_drafts:
        return imap
    if outputs.gmail_drafts:
        top.problem(
            "outputs.imap_drafts",
            "gmail_drafts and imap_drafts are both on — one mail sink per user: "
            "turn one off (the outbox may stay on beside either)",
        )
    if not imap.host and not t.broken:
        t.problem("host", 'required when outputs.imap_drafts = true, e.g. "imap.fastmail.com"')
    if not imap.username and not t.broken:
        t.problem("username", "required when outputs.imap_drafts = true: your mailbox login")
    return imap
