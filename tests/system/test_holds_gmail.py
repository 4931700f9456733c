"""Held slots with Gmail drafts (SPEC §1.7), against the fake Google server through the real
googleapiclient: the draft carries its holds in `X-Calbot-Holds`, a lost state dir re-learns
them from the drafts it adopts, and a draft gone from Drafts keeps them (it may be sent).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from builders import ListSource, at, block, client, event, settings

from calbot.adapters.google import api as google_api
from calbot.adapters.google.gmail import GmailSink
from calbot.adapters.google.scopes import scopes_for
from calbot.adapters.mail import message_holds
from calbot.adapters.sqlite import SqliteStore
from calbot.config.loader import parse_settings
from calbot.config.templates import load_templates
from calbot.core.vocab import DraftStatus
from calbot.ports.store import StateStore
from calbot.usecases.scan import Ports, Window, run_scan

ME = "me@studio.example"
NOW = at("2026-11-25 10:00")
WINDOW = Window(start=NOW, end=NOW + timedelta(days=14), history_start=NOW - timedelta(days=14))


class World:
    def __init__(self, google: Any, tmp_path: Path) -> None:
        token = tmp_path / "token.json"
        google_settings = parse_settings(
            {
                "user": {"email": ME, "name": "Me", "timezone": "Europe/Berlin"},
                "source": {"kind": "google"},
                "clients": [{"name": "Acme", "domains": ["acme.example"]}],
                "google": {"api_root": google.root, "token_file": str(token)},
                "outputs": {"gmail_drafts": True},
            },
            path="test.toml",
            check_templates=False,
        )
        google.write_token(token, scopes_for(google_settings))
        api = google_api.connect(google_settings, sleep=lambda s: None)
        self.google = google
        self.gmail = GmailSink(api, from_addr=ME, from_name="Me", clock=lambda: NOW)
        self.settings = settings(
            client("Acme", "acme.example", timezone="Europe/London"),
            client("Dart", "dart.example", timezone="Europe/London"),
        )
        domains = ("acme", "dart", "acme", "acme", "acme")
        self.source = ListSource(
            [
                event(
                    f"2026-12-01 {h:02d}:00",
                    60,
                    id=f"tue{h}",
                    ical_uid=f"tue{h}",
                    guests=(f"ana@{d}.example",),
                )
                for h, d in zip((9, 10, 11, 13, 14), domains, strict=True)
            ]
        )
        self.state = tmp_path / "state"
        self.templates = load_templates()

    def scan(self, now: datetime = NOW) -> Any:
        store = SqliteStore.open(self.state)
        try:
            result = run_scan(
                self.settings,
                Ports(self.source, store, [self.gmail]),
                self.templates,
                now=now,
                window=WINDOW,
            )
            return result, held(store)
        finally:
            store.close()

    def draft_of(self, result: Any, event_id: str) -> str:
        o = next(o for o in result.outcomes if o.meeting.event.id == event_id)
        return str(o.refs["gmail"])


def held(store: StateStore) -> dict[str, list[tuple[datetime, datetime]]]:
    out: dict[str, list[tuple[datetime, datetime]]] = {}
    for h in store.holds():
        out.setdefault(h.event_id, []).append((h.start.astimezone(UTC), h.end.astimezone(UTC)))
    return out


@pytest.fixture
def world(google: Any, tmp_path: Path) -> World:
    return World(google, tmp_path)


def test_gmail_draft_carries_its_holds(world: World) -> None:
    result, holds = world.scan()
    assert set(holds) == {"tue9", "tue10"}
    raw = world.google.draft_message(world.draft_of(result, "tue9")).as_bytes()
    assert [(s.start, s.end) for s in message_holds(raw)] == holds["tue9"]


def test_a_lost_state_dir_relearns_the_holds_of_adopted_gmail_drafts(world: World) -> None:
    first, holds = world.scan()
    world.google.user_edits_draft(world.draft_of(first, "tue9"), "Let me check my week.")
    shutil.rmtree(world.state)
    # a busy hour over Acme's first slot: a fresh proposal would not be what was written
    start = holds["tue9"][0][0].astimezone(NOW.tzinfo)
    world.source.items.append(block(f"{start:%Y-%m-%d %H:%M}", 60))
    second, again = world.scan(NOW + timedelta(hours=1))
    o = next(o for o in second.outcomes if o.meeting.event.id == "tue9")
    assert o.status == DraftStatus.USER_EDITED
    assert again["tue9"] == holds["tue9"]
    assert again["tue10"] == holds["tue10"]
    assert len(world.google.drafts) == 2  # adopted, not duplicated


def test_a_draft_gone_from_gmail_keeps_its_holds(world: World) -> None:
    first, holds = world.scan()
    world.google.user_deletes_draft(world.draft_of(first, "tue9"))
    second, again = world.scan(NOW + timedelta(hours=1))
    o = next(o for o in second.outcomes if o.meeting.event.id == "tue9")
    assert o.status == DraftStatus.USER_DELETED
    assert again == holds
