"""The starter config's commented `[caldav]` and `[imap]` blocks, uncommented as the
comments say, make a valid CalDAV + IMAP config."""

from __future__ import annotations

import tomllib
from datetime import datetime
from zoneinfo import ZoneInfo

from calbot.config.loader import parse_settings, starter_config


def uncommented(text: str, section: str) -> str:
    """`text` with the commented block that starts at `# [section]` switched on."""
    lines = text.splitlines()
    start = lines.index(f"# [{section}]")
    end = start
    while end < len(lines) and lines[end].startswith("# "):
        lines[end] = lines[end][2:]
        end += 1
    return "\n".join(lines) + "\n"


def test_the_commented_caldav_and_imap_blocks_parse() -> None:
    text = uncommented(uncommented(starter_config(), "caldav"), "imap")
    text = text.replace('kind = "google"', 'kind = "caldav"', 1)
    text = text.replace("gmail_drafts = true", "gmail_drafts = false", 1)
    text = text.replace("calendar_notes = true", "calendar_notes = false", 1)
    text = text.replace("# imap_drafts = false", "imap_drafts = true", 1)
    now = datetime(2026, 1, 5, 9, tzinfo=ZoneInfo("UTC"))
    settings = parse_settings(tomllib.loads(text), path="c.toml", now=now, check_templates=False)
    assert settings.source.kind == "caldav" and settings.outputs.imap_drafts
    assert settings.imap.host == "imap.example.net" and settings.imap.effective_port == 993
    assert settings.imap.password_file.endswith("/.config/calbot/imap-password")
    assert settings.caldav.url == "https://caldav.example.net/"


def test_the_readme_provider_settings_parse() -> None:
    """Fastmail, iCloud and Gmail-over-IMAP in the README: each block, with a user and a
    client around it, is a config calbot accepts (the providers themselves are not tried)."""
    import re
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    part = readme.split("### Exact settings: Fastmail, iCloud, Gmail over IMAP, Nextcloud")[1]
    blocks = re.findall(r"```toml\n(.*?)```", part.split("\n## ")[0], re.S)
    assert len(blocks) == 3
    hosts = []
    for block in blocks:
        text = (
            '[user]\nemail = "you@example.com"\ntimezone = "Europe/Berlin"\n'
            + block
            + '\n[[clients]]\nname = "Acme"\ndomains = ["acme.example"]\n'
        )
        now = datetime(2026, 1, 5, 9, tzinfo=ZoneInfo("UTC"))
        settings = parse_settings(
            tomllib.loads(text), path="c.toml", now=now, check_templates=False
        )
        assert settings.outputs.imap_drafts and not settings.outputs.gmail_drafts
        hosts.append(settings.imap.host)
    assert hosts == ["imap.fastmail.com", "imap.mail.me.com", "imap.gmail.com"]
