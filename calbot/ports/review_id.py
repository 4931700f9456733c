"""Where the review calendar's id is kept (its source of truth).

The scope `calendar.app.created` cannot list calendars, so a lost id would mean a second
"calbot review" calendar: the id must outlive the state store's meta copy. A single user
keeps it in a file beside the token (`calbot.adapters.google.review_id.IdFile`); team mode
keeps it on the user's row in PostgreSQL (`calbot.team.pg_users.ReviewIdColumn`), since
team mode keeps no local files.
"""

from __future__ import annotations

from typing import Protocol


class ReviewIdKeeper(Protocol):
    """The review calendar's id, kept outside the state store."""

    #: where the id is kept, for error messages ("/home/ana/.config/calbot/review_calendar_id",
    #: "team user ana@example.com") — never a secret
    where: str

    def load(self) -> str | None:
        """The kept id, None when there is none yet. Raises `ServiceError` when it cannot be
        read (calbot must not create a second calendar then)."""
        ...

    def save(self, calendar_id: str) -> None:
        """Keep `calendar_id` (replacing any other), durably, before returning."""
        ...
