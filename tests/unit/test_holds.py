"""Held slots through the scan (SPEC §1.7): each way a hold starts, stays and ends, the
`X-Calbot-Holds` header and what `--json` and the table say about them.

Real parts: the memory store, a list source and an outbox of `.eml` files in a temp dir.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from builders import ME, ListSource, at, block, client, event, settings

from calbot.adapters.mail import build_message, holds_header, message_holds
from calbot.adapters.memory_state import MemoryStore
from calbot.adapters.outbox import OutboxSink
from calbot.config.templates import load_templates
from calbot.core.model import Action, Draft, Slot
from calbot.core.records import HoldRecord
from calbot.core.scan_result import ScanResult
from calbot.core.vocab import DraftStatus
from calbot.present.render import count_line, result_doc
from calbot.usecases.scan import Ports, Window, run_scan
from calbot.usecases.scan_record import HoldScope, next_holds

NOW = at("2026-11-25 10:00")
TEMPLATES = load_templates()
WINDOW = Window(start=NOW, end=NOW + timedelta(days=14), history_start=NOW - timedelta(days=14))
# Two clients in one zone: without holds both would be offered the same best hours.
CLIENTS = {
    "acme": client("Acme", "acme.example", timezone="Europe/London"),
    "dart": client("Dart", "dart.example", timezone="Europe/London"),
}


def tuesday(*domains: str) -> list:
    """Tue 1 Dec over both limits, the first meetings with clients of `domains`."""
    hours = (9, 10, 11, 13, 14)
    names = [*domains, *(["acme"] * (len(hours) - len(domains)))]
    return [
        event(
            f"2026-12-01 {h:02d}:00",
            60,
            id=f"tue{h}",
            ical_uid=f"tue{h}",
            guests=(f"ana@{name}.example",),
        )
        for h, name in zip(hours, names, strict=True)
    ]


class TellsSent(OutboxSink):
    """An outbox that knows a vanished draft was not sent (as IMAP's Sent folder tells)."""

    tells_sent = True


class World:
    def __init__(self, tmp_path: Path, *, sink: type[OutboxSink] = OutboxSink) -> None:
        self.settings = settings(*CLIENTS.values())
        self.source = ListSource(tuesday("acme", "dart"))
        self.store = MemoryStore()
        self.folder = tmp_path / "outbox"
        self.outbox = sink(self.folder, from_addr=ME, from_name="Me", clock=lambda: NOW)
        self.templates = TEMPLATES

    def scan(self, *, now: datetime = NOW, window: Window = WINDOW, dry_run: bool = False):
        ports = Ports(self.source, self.store, [self.outbox])
        return run_scan(
            self.settings, ports, self.templates, now=now, window=window, dry_run=dry_run
        )

    def held(self) -> dict[str, list[tuple[datetime, datetime]]]:
        out: dict[str, list[tuple[datetime, datetime]]] = {}
        for h in self.store.holds():
            out.setdefault(h.event_id, []).append((h.start.astimezone(UTC), h.end.astimezone(UTC)))
        return out


def slots_of(result: ScanResult, event_id: str) -> list[tuple[datetime, datetime]]:
    o = next(o for o in result.outcomes if o.meeting.event.id == event_id)
    assert o.decision.proposal is not None
    return [(s.start.astimezone(UTC), s.end.astimezone(UTC)) for s in o.decision.proposal.slots]


def overlap(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_two_clients_in_one_scan_are_never_offered_the_same_time(world: World) -> None:
    result = world.scan()
    acme, dart = slots_of(result, "tue9"), slots_of(result, "tue10")
    assert len(acme) >= 2 and len(dart) >= 2
    assert not any(overlap(a, d) for a in acme for d in dart)
    assert world.held() == {"tue9": acme, "tue10": dart}


def test_holds_of_an_earlier_scan_are_busy_for_a_new_proposal(world: World) -> None:
    world.source.items = tuesday("acme")
    first = world.scan()
    acme = slots_of(first, "tue9")
    # a day later, Dart's meeting lands on the same overloaded Tuesday
    world.source.items = tuesday("acme", "dart")
    second = world.scan(now=NOW + timedelta(hours=1))
    dart = slots_of(second, "tue10")
    assert slots_of(second, "tue9") == acme  # no churn for the draft already written
    assert not any(overlap(a, d) for a in acme for d in dart)


def test_an_unchanged_rescan_keeps_every_slot_and_writes_nothing(world: World) -> None:
    first = world.scan()
    held = world.held()
    second = world.scan(now=NOW + timedelta(hours=2))
    assert world.held() == held
    assert slots_of(second, "tue9") == slots_of(first, "tue9")
    assert {o.status for o in second.outcomes if o.draft} == {DraftStatus.UNCHANGED}


def test_own_slots_stay_even_when_a_fresh_search_would_pick_others(world: World) -> None:
    # Wednesday's best hour is busy at first, so Acme is offered another hour that day
    busy = block("2026-12-02 14:00", 60)
    world.source.items = [*tuesday("acme"), busy]
    first = slots_of(world.scan(), "tue9")
    assert not any(overlap(s, (busy.start, busy.end)) for s in first)
    # the block is gone: a fresh search would now pick 14:00, but the draft keeps its slots
    world.source.items.remove(busy)
    fresh = World(world.folder.parent / "fresh")
    fresh.source.items = tuesday("acme")
    assert slots_of(fresh.scan(now=NOW + timedelta(hours=1)), "tue9") != first
    assert slots_of(world.scan(now=NOW + timedelta(hours=1)), "tue9") == first


def test_a_busy_event_over_a_held_slot_gives_new_slots(world: World) -> None:
    world.source.items = tuesday("acme")
    first = slots_of(world.scan(), "tue9")
    start = first[0][0].astimezone(at("2026-12-01 09:00").tzinfo)
    world.source.items.append(block(f"{start:%Y-%m-%d %H:%M}", 60))
    second = slots_of(world.scan(now=NOW + timedelta(hours=1)), "tue9")
    assert first[0] not in second
    assert world.held()["tue9"] == second


def test_moving_the_meeting_ends_its_holds(world: World) -> None:
    world.scan()
    acme = world.held()["tue9"]
    # the client took the second slot: the meeting now sits there, on a light day
    moved = [
        replace(e, start=acme[1][0], end=acme[1][1]) if e.id == "tue9" else e
        for e in world.source.items
    ]
    world.source.items = moved
    result = world.scan(now=NOW + timedelta(hours=1))
    assert "tue9" not in world.held()
    assert all(h.event_id != "tue9" for h in result.holds)


def test_cancelling_the_meeting_ends_its_holds(world: World) -> None:
    # one more meeting that day, so it stays over its limits without the cancelled one
    world.source.items.append(event("2026-12-01 16:00", 60, guests=("bo@acme.example",)))
    world.scan()
    assert "tue9" in world.held()
    world.source.items = [e for e in world.source.items if e.id != "tue9"]
    world.scan(now=NOW + timedelta(hours=1))
    assert "tue9" not in world.held() and "tue10" in world.held()


def test_a_narrow_window_keeps_the_holds_of_meetings_outside_it(world: World) -> None:
    world.scan()
    held = world.held()
    # --to before Tuesday: the scan does not see those meetings, so cannot tell them gone
    narrow = Window(NOW, at("2026-11-30 00:00"), NOW - timedelta(days=14), full=False)
    result = world.scan(now=NOW + timedelta(hours=1), window=narrow)
    assert world.held() == held
    assert {h.event_id for h in result.holds} == {"tue9", "tue10"}
    assert result.pending == 2  # their drafts still wait, though outside the window


def test_a_changed_action_ends_the_holds(world: World) -> None:
    world.scan()
    # two hours long now: shorten comes before reschedule in the order
    world.source.items = [
        replace(e, end=e.start + timedelta(hours=2)) if e.id == "tue9" else e
        for e in world.source.items
    ]
    result = world.scan(now=NOW + timedelta(hours=1))
    o = next(o for o in result.outcomes if o.meeting.event.id == "tue9")
    assert o.decision.action == Action.SHORTEN
    assert "tue9" not in world.held()


def test_a_draft_gone_from_the_outbox_keeps_its_holds(world: World) -> None:
    first = world.scan()
    held = world.held()
    o = next(o for o in first.outcomes if o.meeting.event.id == "tue9")
    world.outbox.path_of(o.refs["outbox"]).unlink()  # sent, or deleted: the outbox cannot tell
    second = world.scan(now=NOW + timedelta(hours=1))
    o = next(o for o in second.outcomes if o.meeting.event.id == "tue9")
    assert o.status == DraftStatus.USER_DELETED
    assert world.held() == held
    assert second.pending == 1


def test_a_draft_known_deleted_unsent_ends_its_holds(tmp_path: Path) -> None:
    world = World(tmp_path, sink=TellsSent)
    first = world.scan()
    o = next(o for o in first.outcomes if o.meeting.event.id == "tue9")
    world.outbox.path_of(o.refs["outbox"]).unlink()
    world.scan(now=NOW + timedelta(hours=1))
    assert "tue9" not in world.held() and "tue10" in world.held()


def test_a_dry_run_shows_the_holds_and_stores_none(world: World) -> None:
    result = world.scan(dry_run=True)
    assert {h.event_id for h in result.holds} == {"tue9", "tue10"}
    assert world.store.holds() == []


def test_the_draft_carries_its_holds_in_a_header(world: World) -> None:
    result = world.scan()
    o = next(o for o in result.outcomes if o.meeting.event.id == "tue9")
    raw = world.outbox.path_of(o.refs["outbox"]).read_bytes()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["X-Calbot-Holds"]
    assert [(s.start, s.end) for s in message_holds(raw)] == slots_of(result, "tue9")


def test_the_holds_header_round_trips_and_refuses_what_is_not_its_own() -> None:
    slots = [
        Slot(at("2026-12-02 13:00"), at("2026-12-02 14:00")),
        Slot(at("2026-12-03 13:30"), at("2026-12-03 14:30")),
    ]
    draft = Draft(language="en", to=("ana@acme.example",), subject="s", body="b")

    def holds_of(header_value: str | None) -> list[Slot]:
        raw = build_message(
            draft,
            from_addr=ME,
            from_name="Me",
            message_id="<x@y.example>",
            date=NOW,
            holds=slots if header_value is None else (),
        )
        if header_value is not None:
            raw = raw.replace(
                b"\r\n\r\n", f"\r\nX-Calbot-Holds: {header_value}\r\n\r\n".encode(), 1
            )
        return list(message_holds(raw))

    assert [(s.start, s.end) for s in holds_of(None)] == [(s.start, s.end) for s in slots]
    assert holds_header(slots) == "2026-12-02T12:00:00Z/2026-12-02T13:00:00Z, " + (
        "2026-12-03T12:30:00Z/2026-12-03T13:30:00Z"
    )
    for bad in ("tomorrow", "2026-12-02T12:00:00/2026-12-02T13:00:00", "2026-12-02T13:00:00Z"):
        assert holds_of(bad) == []
    assert holds_of("2026-12-02T13:00:00Z/2026-12-02T12:00:00Z") == []  # ends before it starts


def test_a_lost_store_relearns_the_holds_from_the_drafts(world: World) -> None:
    world.scan()
    held = world.held()
    world.store = MemoryStore()  # the state dir is gone
    world.scan(now=NOW + timedelta(hours=1))
    assert world.held() == held


def test_with_no_empty_ledger_to_refill_no_draft_is_looked_for(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # relearning runs whenever no hold is stored; the ids it would look for (one per
    # meeting and action: ~13,000 on a big window) are made only for a sink to ask
    import calbot.usecases.scan_holds as scan_holds

    made: list[tuple[str, ...]] = []
    real = scan_holds.message_id_for

    def counting(*args: str) -> str:
        made.append(args)
        return real(*args)

    monkeypatch.setattr(scan_holds, "message_id_for", counting)
    no_sink = Ports(world.source, MemoryStore(), [])
    result = run_scan(world.settings, no_sink, world.templates, now=NOW, window=WINDOW)
    assert any(o.decision.action == Action.RESCHEDULE for o in result.outcomes)
    assert made == []
    world.scan()  # the outbox's ledger is empty: its drafts are looked for
    assert made
    made.clear()
    with world.store.transaction():  # no hold stored: relearning runs, the ledger is full
        for key in {h.key for h in world.store.holds()}:
            world.store.put_holds(key, [])
    world.scan(now=NOW + timedelta(hours=1))
    assert made == []


def test_an_edited_draft_adopted_by_a_lost_store_keeps_what_its_header_says(
    world: World,
) -> None:
    first = world.scan()
    acme = world.held()["tue9"]
    o = next(o for o in first.outcomes if o.meeting.event.id == "tue9")
    path = world.outbox.path_of(o.refs["outbox"])
    path.write_bytes(path.read_bytes().replace(b"\r\n\r\n", b"\r\n\r\nEdited. ", 1))
    world.store = MemoryStore()
    # a busy hour over the first slot: a fresh proposal would differ from what was written
    start = acme[0][0].astimezone(at("2026-12-01 09:00").tzinfo)
    world.source.items.append(block(f"{start:%Y-%m-%d %H:%M}", 60))
    second = world.scan(now=NOW + timedelta(hours=1))
    o = next(o for o in second.outcomes if o.meeting.event.id == "tue9")
    assert o.status == DraftStatus.USER_EDITED
    assert slots_of(second, "tue9") != acme
    assert world.held()["tue9"] == acme


def test_json_and_table_count_the_same_drafts_and_holds(world: World) -> None:
    world.scan()
    result = world.scan(now=NOW + timedelta(hours=1))
    doc = result_doc(result, {}, "en")
    assert doc["stats"]["drafted"] == 0  # nothing written on an unchanged rescan
    assert doc["stats"]["pending"] == 2
    holds = doc["holds"]
    assert {h["event_id"] for h in holds} == {"tue9", "tue10"}
    assert set(holds[0]) == {"event_id", "client", "start", "end"}
    assert {h["client"] for h in holds} == {"Acme", "Dart"}
    assert datetime.fromisoformat(holds[0]["start"]).utcoffset() is not None
    line = count_line(result)
    assert "2 drafts waiting (0 written this scan)" in line
    assert f"{len(holds)} slots held" in line


def test_next_holds_drops_passed_slots_of_meetings_a_narrow_scan_did_not_see() -> None:
    def hold(day: int) -> HoldRecord:
        start = at(f"2026-12-0{day} 13:00")
        return HoldRecord("k", "e", "Acme", start, start + timedelta(hours=1))

    scope = HoldScope(
        now=at("2026-12-02 15:00"),
        seen=set(),
        full=False,
        ended=set(),
        failed=set(),
        unsent=set(),
        learned={},
    )
    assert next_holds([hold(2), hold(3)], {}, scope) == {"k": (hold(3),)}
    assert next_holds([hold(2), hold(3)], {}, replace(scope, full=True)) == {}


def test_a_series_acted_on_twice_holds_one_set_of_slots(world: World) -> None:
    # two overloaded Tuesdays, the same weekly Acme meeting on both: one draft, one set
    # the later Tuesday is fuller, so its occurrence is decided first
    days = []
    for day, hours in (("2026-12-01", (9, 10, 11, 13)), ("2026-12-08", (8, 9, 10, 11, 13, 16))):
        days += [
            event(f"{day} {h:02d}:00", 60, id=f"{day}-{h}", guests=("x@dart.example",))
            for h in hours
        ]
        days.append(event(f"{day} 14:00", 60, id=f"w{day}", series_id="weekly"))
    world.source.items = days
    first = world.scan()
    later = world.scan(now=NOW + timedelta(hours=1))
    weekly = [o for o in later.outcomes if o.meeting.event.series_id == "weekly"]
    assert weekly[1].decision.score > weekly[0].decision.score
    assert [o.decision.action for o in weekly] == [Action.RESCHEDULE] * 2
    held = [h for h in later.holds if h.key == "cal/weekly"]
    assert 2 <= len(held) <= 3
    assert held == [h for h in first.holds if h.key == "cal/weekly"]
