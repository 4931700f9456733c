"""The whole scan against real parts: outbox `.eml` files on disk and a SQLite state file.

The calendar is an in-memory source (a real fake, like vdirsyncer's memory storage); the ICS
adapter has its own tests.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from builders import ME, ListSource, at, client, event, settings
from replies import roadmap

from calbot.adapters.outbox import OutboxSink
from calbot.adapters.sqlite import SqliteStore
from calbot.config.settings import Outputs
from calbot.config.templates import load_templates
from calbot.core.model import Action, Slot, Tier
from calbot.core.vocab import DraftStatus
from calbot.present.reasons import why_text
from calbot.usecases.scan import Outcome, Ports, Window, run_scan

NOW = at("2026-11-25 10:00")
WINDOW = Window(start=NOW, end=NOW + timedelta(days=14), history_start=NOW - timedelta(days=14))


def tuesday():
    """Tue 1 Dec over both limits; the 14:00 meeting will be asked to move."""
    return [
        event(f"2026-12-01 {h:02d}:00", 60, id=f"tue{h}", ical_uid=f"tue{h}")
        for h in (9, 10, 11, 13, 14)
    ]


@pytest.fixture
def world(tmp_path):
    s = replace(
        settings(client(language="en", timezone="Europe/London")),
        outputs=Outputs(outbox=str(tmp_path / "outbox")),
    )
    templates = load_templates()

    class World:
        source = ListSource(tuesday())
        outbox = OutboxSink(
            tmp_path / "outbox", from_addr=ME, from_name="Me Myself", clock=lambda: NOW
        )
        state_dir = tmp_path / "state"

        def scan(self, *, dry_run=False, now=NOW, window=WINDOW):
            store = SqliteStore.open(self.state_dir, readonly=dry_run)
            try:
                return run_scan(
                    s,
                    Ports(self.source, store, [self.outbox]),
                    templates,
                    now=now,
                    window=window,
                    dry_run=dry_run,
                )
            finally:
                store.close()

        def files(self):
            return sorted((tmp_path / "outbox").glob("*.eml"))

    return World()


def drafted(result):
    return {o.meeting.event.id: o for o in result.outcomes if o.draft is not None}


def parse(path: Path):
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def test_first_scan_writes_one_eml_per_draft_and_they_parse_back(world):
    result = world.scan()
    out = drafted(result)
    assert set(out) == {"tue9"}  # one ask per client: the earliest of the equal scores
    files = world.files()
    assert len(files) == len(out) == result.drafted
    for o in out.values():
        msg = parse(world.outbox.path_of(o.refs["outbox"]))
        assert msg["To"].addresses[0].addr_spec == o.draft.to[0]
        assert msg["Subject"] == o.draft.subject
        assert msg["From"].addresses[0].addr_spec == ME
        assert msg["Message-ID"].startswith("<calbot.") and msg["Message-ID"].endswith(
            "@studio.example>"
        )
        assert msg["Date"].datetime == NOW
        body = msg.get_content().replace("\r\n", "\n")
        assert body.strip() == o.draft.body.strip()
        assert o.draft.private_notes.splitlines()[0] not in body
        assert o.status == "new"


def test_a_user_at_an_address_literal_gets_drafts_with_a_reserved_message_id_domain(tmp_path):
    """`me@[127.0.0.1]` is a valid address but no Message-ID domain: the drafts use
    `calbot.invalid`, as the digest does, instead of failing the scan."""
    base = settings(client(language="en", timezone="Europe/London"))
    s = replace(base, user=replace(base.user, email="me@[127.0.0.1]"))
    outbox = OutboxSink(tmp_path / "outbox", from_addr=ME, from_name="Me", clock=lambda: NOW)
    store = SqliteStore.open(tmp_path / "state")
    try:
        ports = Ports(ListSource(tuesday()), store, [outbox])
        result = run_scan(s, ports, load_templates(), now=NOW, window=WINDOW)
    finally:
        store.close()
    (o,) = drafted(result).values()
    assert parse(outbox.path_of(o.refs["outbox"]))["Message-ID"].endswith("@calbot.invalid>")


def test_rerun_with_nothing_changed_writes_nothing(world):
    world.scan()
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in world.files()}
    result = world.scan()
    assert {o.status for o in drafted(result).values()} == {"unchanged"}
    assert result.drafted == 0
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in world.files()} == before


def test_dry_run_writes_nothing_at_all(world, tmp_path):
    result = world.scan(dry_run=True)
    assert drafted(result) and {o.status for o in drafted(result).values()} == {"dry_run"}
    assert not (tmp_path / "outbox").exists()
    assert not world.state_dir.exists()


def test_user_deleted_draft_is_not_recreated_until_the_meeting_changes(world):
    first = drafted(world.scan())
    target = first["tue9"]
    world.outbox.path_of(target.refs["outbox"]).unlink()
    again = drafted(world.scan())
    assert again["tue9"].status == "user_deleted"
    assert not world.outbox.path_of(target.refs["outbox"]).exists()
    assert drafted(world.scan())["tue9"].status == "user_deleted"
    # a material change (new time: an hour earlier) re-opens it
    moved = [
        e
        if e.id != "tue9"
        else replace(e, start=e.start - timedelta(hours=1), end=e.end - timedelta(hours=1))
        for e in world.source.items
    ]
    world.source.items = moved
    reopened = drafted(world.scan())
    assert reopened["tue9"].status == "new"
    assert world.outbox.path_of(reopened["tue9"].refs["outbox"]).exists()


def test_user_edited_draft_is_never_overwritten(world):
    target = drafted(world.scan())["tue9"]
    path = world.outbox.path_of(target.refs["outbox"])
    path.write_bytes(path.read_bytes() + b"\r\nP.S. See you soon.\r\n")
    edited = path.read_bytes()
    # even when the meeting changes, the edit stays
    world.source.items = [
        replace(e, location="Room 2") if e.id == "tue9" else e for e in world.source.items
    ]
    assert drafted(world.scan())["tue9"].status == "user_edited"
    assert path.read_bytes() == edited


def test_changed_meeting_updates_its_untouched_draft_in_place(world):
    first = drafted(world.scan())
    count = len(world.files())
    world.source.items = [
        replace(e, summary="Renamed sync") if e.id == "tue9" else e for e in world.source.items
    ]
    second = drafted(world.scan())
    assert second["tue9"].status == "updated"
    assert second["tue9"].refs["outbox"] == first["tue9"].refs["outbox"]
    assert "Renamed sync" in parse(world.outbox.path_of(second["tue9"].refs["outbox"]))["Subject"]
    assert len(world.files()) == count


def test_cancelled_meeting_deletes_its_untouched_draft(world):
    first = drafted(world.scan())
    path = world.outbox.path_of(first["tue9"].refs["outbox"])
    world.source.items = [
        replace(e, status="cancelled") if e.id == "tue9" else e for e in world.source.items
    ]
    result = world.scan()
    assert not path.exists()
    assert result.deleted >= 1
    assert "tue9" not in drafted(result)


def test_action_change_replaces_the_untouched_draft(world):
    first = drafted(world.scan())
    old = world.outbox.path_of(first["tue9"].refs["outbox"])
    assert first["tue9"].decision.action == Action.RESCHEDULE
    # the same meeting is now two hours long: shorten comes first in the order
    world.source.items = [
        replace(e, end=e.start + timedelta(hours=2)) if e.id == "tue9" else e
        for e in world.source.items
    ]
    second = drafted(world.scan())
    assert second["tue9"].decision.action == Action.SHORTEN
    assert not old.exists()
    assert world.outbox.path_of(second["tue9"].refs["outbox"]).exists()


def test_lost_state_adopts_existing_drafts_instead_of_duplicating(world):
    world.scan()
    files = world.files()
    for p in world.state_dir.iterdir():
        p.unlink()
    world.state_dir.rmdir()
    result = world.scan()
    assert world.files() == files
    assert {o.status for o in drafted(result).values()} == {"unchanged"}


def test_goodwill_is_remembered_across_scans(world):
    first = drafted(world.scan())
    asks = [o for o in first.values() if o.decision.action == Action.RESCHEDULE]
    assert len(asks) == 1
    # A week later a new overloaded day: the same client cannot be asked again yet.
    later = [
        event(f"2026-12-08 {h:02d}:00", 60, id=f"next{h}", ical_uid=f"next{h}")
        for h in (9, 10, 11, 13, 14)
    ]
    world.source.items = [*world.source.items, *later]
    second = drafted(world.scan())
    assert sum(1 for o in second.values() if o.decision.action == Action.RESCHEDULE) == 1
    assert second[asks[0].meeting.event.id].decision.action == Action.RESCHEDULE


def test_recurring_series_gets_one_draft(world):
    series = [
        event(
            f"2026-12-{d:02d} 08:00",
            30,
            id=f"s{d}",
            ical_uid="weekly",
            series_id="weekly",
            description="",
        )
        for d in (1, 8)
    ]
    world.source.items = [*world.source.items, *series]
    result = world.scan()
    drafts = [o for o in result.outcomes if o.meeting.event.series_id == "weekly" and o.draft]
    assert len(drafts) == 1


def test_key_client_never_gets_email(tmp_path):
    from calbot.core.settings import Scoring

    # weight 1.0 so the key client's weekly meeting clears act_at and something is decided
    s = replace(settings(client(tier=Tier.KEY), scoring=Scoring(key_weight=1.0)), outputs=Outputs())
    weekly = event("2026-12-01 08:00", 30, id="w", series_id="w", description="")
    store = SqliteStore.open(tmp_path / "s")
    ports = Ports(ListSource([*tuesday(), weekly]), store, [])
    result = run_scan(s, ports, load_templates(), now=NOW, window=WINDOW)
    decided = {o.meeting.event.id: o.decision for o in result.outcomes}
    assert decided["w"].action not in (Action.EMAIL, Action.NONE)
    assert "key clients never" in why_text(decided["w"], "en")
    assert all(d.action != Action.EMAIL for d in decided.values())


def test_deleted_draft_stays_deleted_when_the_action_comes_and_goes(world):
    first = drafted(world.scan())
    world.outbox.path_of(first["tue9"].refs["outbox"]).unlink()
    assert drafted(world.scan())["tue9"].status == "user_deleted"
    # the day gets lighter (score drops below act_at), then full again
    items = world.source.items
    world.source.items = [e for e in items if e.id not in ("tue10", "tue11")]
    assert "tue9" not in drafted(world.scan())
    world.source.items = items
    back = drafted(world.scan())
    assert back["tue9"].status == "user_deleted"
    assert len(world.files()) == 0


def test_lost_state_never_overwrites_a_draft_the_user_edited(world):
    target = drafted(world.scan())["tue9"]
    path = world.outbox.path_of(target.refs["outbox"])
    path.write_bytes(path.read_bytes().replace(b"Hello,", b"Dear Ana,"))
    edited = path.read_bytes()
    for p in world.state_dir.iterdir():
        p.unlink()
    assert drafted(world.scan())["tue9"].status == "user_edited"
    # a later change of the meeting's text does not overwrite it either
    world.source.items = [
        replace(e, summary="New name") if e.id == "tue9" else e for e in world.source.items
    ]
    assert drafted(world.scan())["tue9"].status == "user_edited"
    assert path.read_bytes() == edited


def test_crash_between_writing_a_draft_and_recording_it_makes_no_duplicate(world, monkeypatch):
    real = SqliteStore.put_sink_record

    def crash(self, record):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(SqliteStore, "put_sink_record", crash)
    with pytest.raises(KeyboardInterrupt):
        world.scan()
    written = world.files()
    assert len(written) == 1  # the draft was written, the ledger never heard of it
    monkeypatch.setattr(SqliteStore, "put_sink_record", real)
    result = world.scan()
    assert world.files() == written
    assert drafted(result)["tue9"].status == "unchanged"


class MemoryNotes:
    """A real fake of the calendar-notes sink: keeps notes per event id."""

    name = "calendar_notes"

    def __init__(self):
        self.notes = {}
        self.cleared = []
        self.warnings = []

    def put(self, event, note):
        self.notes[event.id] = note

    def clear(self, event):
        self.cleared.append(event.id)


def test_notes_go_on_acted_meetings_and_come_off_when_no_longer_acted(tmp_path):
    notes = MemoryNotes()
    s = replace(settings(client()), outputs=Outputs(note_color="5"))
    quiet_one = event("2026-12-03 10:00", 30, id="quiet", notes=(("calbot_action", "call"),))
    store = SqliteStore.open(tmp_path / "s")
    ports = Ports(ListSource([*tuesday(), quiet_one]), store, [], notes)
    result = run_scan(s, ports, load_templates(), now=NOW, window=WINDOW)
    acted = {o.meeting.event.id for o in result.outcomes if o.decision.action != Action.NONE}
    assert set(notes.notes) == acted and acted
    note = notes.notes["tue9"]
    assert note.action == "reschedule" and note.color_id == "5" and note.reason
    assert notes.cleared == ["quiet"]
    # a dry run notes nothing
    dry = MemoryNotes()
    ports = Ports(ListSource(tuesday()), SqliteStore.open(tmp_path / "s", readonly=True), [], dry)
    run_scan(s, ports, load_templates(), now=NOW, window=WINDOW, dry_run=True)
    assert dry.notes == {} and dry.cleared == []


def test_busy_time_from_busy_only_calendars_blocks_slots(tmp_path):
    class Busy(ListSource):
        def extra_busy(self, start, end):
            # every working day of the next week is taken, except Friday 4 December
            days = (26, 27, 30)
            out = [Slot(at(f"2026-11-{d} 08:00"), at(f"2026-11-{d} 18:00")) for d in days]
            out += [Slot(at(f"2026-12-0{d} 08:00"), at(f"2026-12-0{d} 18:00")) for d in (2, 3)]
            return out

    store = SqliteStore.open(tmp_path / "s")
    result = run_scan(
        settings(), Ports(Busy(tuesday()), store, []), load_templates(), now=NOW, window=WINDOW
    )
    slots = next(
        o for o in result.outcomes if o.decision.action == Action.RESCHEDULE
    ).decision.proposal.slots
    assert slots and all(s.start.date().isoformat() >= "2026-12-04" for s in slots)


def test_a_draft_no_mail_can_carry_is_a_warning_not_a_crash(world):
    broken = "ana smith@acme.example"  # a space: no e-mail header can carry it
    world.source.items = [
        replace(
            e, organizer=broken, attendees=(e.attendees[0], replace(e.attendees[1], email=broken))
        )
        if e.id == "tue9"
        else e
        for e in world.source.items
    ]
    result = world.scan()
    assert any("tue9" in w and "not written" in w for w in result.warnings)
    assert world.files() == []  # tue9 was the only draft wanted


def test_a_meeting_shows_its_mail_drafts_status_and_notes_point_at_the_mail_draft():
    meeting, decision = roadmap()
    both = Outcome(
        meeting,
        decision,
        refs={"review_calendar": "ev1", "gmail": "r1", "outbox": "calbot-1.eml"},
        statuses={
            "review_calendar": DraftStatus.USER_EDITED,
            "gmail": DraftStatus.UNCHANGED,
            "outbox": DraftStatus.NEW,
        },
        mail_sinks={"gmail", "outbox"},
    )
    assert both.status == DraftStatus.NEW  # the review calendar's edit is not the mail's
    assert both.mail_ref == "r1"  # the first mail sink's
    review_only = Outcome(
        meeting,
        decision,
        refs={"review_calendar": "ev1"},
        statuses={"review_calendar": DraftStatus.USER_EDITED},
    )
    assert review_only.status == DraftStatus.USER_EDITED and review_only.mail_ref == ""
    gone = Outcome(
        meeting,
        decision,
        statuses={"gmail": DraftStatus.USER_DELETED, "outbox": DraftStatus.UNCHANGED},
        mail_sinks={"gmail", "outbox"},
    )
    assert gone.status == DraftStatus.UNCHANGED  # "user_deleted" only when gone everywhere
    assert replace(gone, dry_run=True).status == DraftStatus.DRY_RUN
    assert Outcome(meeting, decision).status is None
