"""The settings the core reads: the user, the thresholds, the scoring and the clients.

The whole validated config is `calbot.config.settings.Settings`; it satisfies `CoreSettings`
structurally, so the core never sees the Google, source, output or limit settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from calbot.core.model import Action, Client, TimeRange

# The order in which actions are tried when several fit.
DEFAULT_ACTION_ORDER: tuple[Action, ...] = (
    Action.DELEGATE,
    Action.CALL,
    Action.EMAIL,
    Action.SHORTEN,
    Action.RESCHEDULE,
    Action.BOUNDARY,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LANGUAGES = ("en", "vi", "ms")


@dataclass(frozen=True, slots=True)
class UserSettings:
    email: str
    name: str = ""
    timezone: str = "UTC"
    language: str = "en"
    working_hours: TimeRange | None = None  # None only in tests; config supplies a default
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    own_domains: tuple[str, ...] = ()
    signature: str = ""
    unknown_external_is_client: bool = False

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]

    def is_own(self, email: str) -> bool:
        """The user or a colleague. Only `own_domains` count: a freelancer on a public mail
        domain shares it with clients."""
        return email == self.email or email.rpartition("@")[2] in self.own_domains


@dataclass(frozen=True, slots=True)
class Thresholds:
    act_at: int = 50
    max_meeting_hours_per_day: float = 4
    max_meetings_per_day: int = 4
    max_meeting_hours_per_week: float = 15
    min_focus_block_minutes: int = 90
    max_meetings_per_client_per_week: int = 2
    long_meeting_minutes: int = 60
    min_notice_hours: float = 24
    goodwill_days: int = 14


@dataclass(frozen=True, slots=True)
class Scoring:
    """Points per factor and the tier weights: the whole formula lives in config."""

    # Calibrated so that, with the default thresholds, a day over both its hour and count
    # limits reaches act_at (30 + 20) and a low-tier client's 90-minute in-person meeting
    # without agenda does too ((15 + 15 + 10) x 1.3).
    day_load: int = 30
    day_count: int = 20
    week_load: int = 10
    no_focus_block: int = 10
    long_meeting: int = 15
    in_person: int = 15
    repeated: int = 15
    no_agenda: int = 10
    optional_or_colleague: int = 20
    chatty: int = 20
    outside_hours: int = 10
    key_weight: float = 0.6
    standard_weight: float = 1.0
    low_weight: float = 1.3
    order: tuple[Action, ...] = DEFAULT_ACTION_ORDER


class ScanCadence(Protocol):
    """How often scans run: the digest reads it to tell when the scans stopped."""

    @property
    def scan_every(self) -> timedelta: ...


class CoreSettings(Protocol):
    """What the core reads of the settings (read-only)."""

    @property
    def user(self) -> UserSettings: ...

    @property
    def thresholds(self) -> Thresholds: ...

    @property
    def scoring(self) -> Scoring: ...

    @property
    def clients(self) -> tuple[Client, ...]: ...

    @property
    def schedule(self) -> ScanCadence: ...
