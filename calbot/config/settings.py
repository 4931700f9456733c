"""The whole validated config: `calbot.config.loader` builds it from TOML.

The core reads only its own part (`calbot.core.settings.CoreSettings`: user, thresholds,
scoring, clients, scan cadence); where events come from, how Google is reached, where
drafts go, when things run and how long to wait are the shell's business and live here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from calbot.core.model import Client
from calbot.core.settings import Scoring, Thresholds, UserSettings


@dataclass(frozen=True, slots=True)
class Outputs:
    gmail_drafts: bool = False
    imap_drafts: bool = False  # drafts (and the digest) in an IMAP Drafts folder: [imap]
    calendar_notes: bool = False
    review_calendar: bool = False
    outbox: str = ""  # a folder; "" disables
    templates_dir: str = ""
    note_color: str = ""  # Google Calendar colour id "1".."11" for acted meetings; "" = none


@dataclass(frozen=True, slots=True)
class Source:
    kind: str = "ics"
    calendars: tuple[str, ...] = ("primary",)
    busy_calendars: tuple[str, ...] = ()
    path: str = ""
    horizon: str = "in 14 days"
    history: str = "14 days ago"


@dataclass(frozen=True, slots=True)
class GoogleSettings:
    client_secret_file: str = "~/.config/calbot/client_secret.json"  # noqa: S105 (a path)
    token_file: str = "~/.config/calbot/token.json"  # noqa: S105 (a path)
    api_root: str = ""
    service_account_file: str = ""
    subject: str = ""
    app_published: bool = False


@dataclass(frozen=True, slots=True)
class Schedule:
    scan_every: timedelta = timedelta(minutes=30)
    digest_at: str = "07:30"


@dataclass(frozen=True, slots=True)
class Limits:
    http_timeout_seconds: float = 30
    retry_budget_seconds: float = 120
    download_timeout_seconds: float = 120  # a whole ICS download, however slow (issue 11 #7)
    lock_wait_seconds: float = 60


@dataclass(frozen=True, slots=True)
class Settings:
    """Satisfies `calbot.core.settings.CoreSettings`, so it is what the shell hands the core."""

    user: UserSettings
    path: str = "<memory>"  # the config file, for messages
    source: Source = field(default_factory=Source)
    google: GoogleSettings = field(default_factory=GoogleSettings)
    thresholds: Thresholds = field(default_factory=Thresholds)
    scoring: Scoring = field(default_factory=Scoring)
    clients: tuple[Client, ...] = ()
    outputs: Outputs = field(default_factory=Outputs)
    schedule: Schedule = field(default_factory=Schedule)
    limits: Limits = field(default_factory=Limits)
    caldav: CaldavSettings = field(default_factory=lambda: CaldavSettings())
    imap: ImapSettings = field(default_factory=lambda: ImapSettings())


@dataclass(frozen=True, slots=True)
class CaldavSettings:
    """`[caldav]`, read when `source.kind = "caldav"`. The password itself is never here: it
    is read from `password_file` (mode 0600) or `$CALBOT_CALDAV_PASSWORD` when connecting."""

    url: str = ""
    username: str = ""
    password_file: str = ""
    ca_file: str = ""


@dataclass(frozen=True, slots=True)
class ImapSettings:
    """`[imap]`: the mailbox whose Drafts folder takes the drafts (`outputs.imap_drafts`)."""

    host: str = ""
    port: int = 0  # 0: the usual port for `security` (993 for tls, 143 for starttls)
    username: str = ""
    password_file: str = "~/.config/calbot/imap-password"  # noqa: S105 (a path)
    security: str = "tls"  # tls | starttls; never plain text
    drafts_folder: str = ""  # "" = the folder marked \\Drafts, else one named Drafts
    ca_file: str = ""  # a CA bundle for a private server; "" = the system's

    @property
    def effective_port(self) -> int:
        return self.port or (143 if self.security == "starttls" else 993)
