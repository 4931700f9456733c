"""Which opening sentence each draft gets. Apart from `calbot.core.draft` because a scan
picks openings for every draft, also those whose text it takes from the draft memo
(`calbot.usecases.draft_memo`) without rendering: this module needs no Babel or templates."""

from __future__ import annotations

import hashlib

from calbot.core.draft_people import recipients
from calbot.core.model import Action, Meeting
from calbot.core.settings import UserSettings

OPENINGS = 3  # opening sentences per action and language


class Openings:
    """Which opening sentence each draft of one scan gets, so two drafts to the same address
    never open alike, whatever their actions (up to `OPENINGS` of them: the templates of
    every action share the openings' places). Deterministic: a draft starts from its own
    key's choice, which stays put from scan to scan unless another draft to that person
    already took it."""

    def __init__(self) -> None:
        self._taken: dict[str, set[int]] = {}

    def pick(self, meeting: Meeting, action: Action, user: UserSettings) -> int:
        to = recipients(meeting, user)[0]
        address = to[0].email.lower() if to else ""
        taken = self._taken.setdefault(address, set())
        digest = hashlib.sha256(meeting.event.draft_key.encode()).digest()
        first = digest[0] % OPENINGS
        free = [(first + i) % OPENINGS for i in range(OPENINGS)]
        choice = next((i for i in free if i not in taken), first)
        taken.add(choice)
        return choice
