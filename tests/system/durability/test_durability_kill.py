"""SIGKILL where a crash hurts most, against the fake Google server: after Gmail carried out a
create, an update or a delete whose answer calbot never heard, or while it notes the calendar.
The rerun adopts or finishes the work: one draft per meeting, a sound state file."""

from __future__ import annotations

import contextlib
import signal
from collections import Counter

import pytest
from builders import google_time
from durability_rig import (
    CHANGES,
    Hold,
    drafted,
    integrity,
    kill,
    people,
    sink_records,
    status_of,
    wait_for,
)

# --- kill -9 ------------------------------------------------------------------------------


@pytest.mark.parametrize("nth", [1, 3, 5])
def test_kill_after_gmail_created_the_draft_but_before_state_is_written(account, nth):
    """SIGKILL while Gmail has created draft `nth` but calbot has not recorded it (the
    answer never arrived): the rerun finds it by its Message-ID and adopts it."""
    hold = Hold(account.google, "POST", "/users/me/drafts", nth)
    proc = account.start()
    try:
        wait_for(hold.reached.is_set, f"Gmail drafts.create #{nth}")
        assert kill(proc) == -signal.SIGKILL
    finally:
        hold.release()
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    assert len(account.drafts()) == nth
    assert integrity(account.state) == "ok"
    assert len(sink_records(account.state, "gmail")) == nth - 1  # the last one never recorded

    account.google.clear_log()
    doc = account.scan()
    assert account.google.count("gmail.drafts.create") == 5 - nth
    account.assert_one_draft_per_meeting(doc)
    assert len(drafted(doc)) == 5
    statuses = Counter(m["draft"]["status"] for m in drafted(doc))
    assert statuses == Counter({"unchanged": nth, "new": 5 - nth})
    # and the notes on the calendar point at the adopted drafts
    for m in drafted(doc):
        note = account.google.event("primary", m["event_id"])["extendedProperties"]["private"]
        assert note["calbot_draft"] == m["draft"]["gmail_draft_id"]

    account.google.clear_log()
    account.scan()
    assert account.writes() == Counter()


def test_kill_while_noting_the_calendar_after_all_drafts_are_written(account):
    """The drafts and their records are in; the kill lands on the calendar notes: the rerun
    writes no draft and finishes the notes."""
    hold = Hold(account.google, "PATCH", "", 2)  # the second events.patch (a note)
    proc = account.start()
    try:
        wait_for(hold.reached.is_set, "the second calendar note")
        assert kill(proc) == -signal.SIGKILL
    finally:
        hold.release()
    assert len(account.drafts()) == 5
    assert integrity(account.state) == "ok"
    account.google.clear_log()
    doc = account.scan()
    assert account.google.count("gmail.drafts.create") == 0
    assert account.google.count("gmail.drafts.update") == 0
    account.assert_one_draft_per_meeting(doc)
    for m in drafted(doc):
        note = account.google.event("primary", m["event_id"])["extendedProperties"]["private"]
        assert note["calbot_draft"] == m["draft"]["gmail_draft_id"]


def test_kill_after_gmail_updated_the_draft_but_before_state_is_written(account):
    doc = account.scan()
    eid = account.ids[0]
    draft_id = status_of(doc, eid)["gmail_draft_id"]
    CHANGES["moved"](account, eid)
    hold = Hold(account.google, "PUT", f"/users/me/drafts/{draft_id}", 1)
    proc = account.start()
    try:
        wait_for(hold.reached.is_set, "Gmail drafts.update")
        assert kill(proc) == -signal.SIGKILL
    finally:
        hold.release()
    assert integrity(account.state) == "ok"
    account.google.clear_log()
    doc = account.scan()
    account.assert_one_draft_per_meeting(doc)
    assert account.google.count("gmail.drafts.create") == 0
    # the draft holds calbot's text for the moved meeting: it is calbot's, not the user's
    assert status_of(doc, eid)["status"] == "unchanged"
    # and it keeps following the meeting
    account.google.update_event(
        "primary", eid, start=google_time(account.day, 8, 15), end=google_time(account.day, 9, 15)
    )
    account.google.clear_log()
    doc = account.scan()
    assert status_of(doc, eid)["status"] == "updated"
    assert account.google.count("gmail.drafts.update") == 1


def test_kill_after_calbot_deleted_its_draft_but_before_state_is_written(account):
    doc = account.scan()
    eid = account.ids[0]
    draft_id = status_of(doc, eid)["gmail_draft_id"]
    gone = account.ids[2:]
    for other in gone:  # a lighter day: the first two meetings need nothing any more
        account.google.delete_event("primary", other)
    hold = Hold(account.google, "DELETE", f"/users/me/drafts/{draft_id}", 1)
    proc = account.start()
    try:
        wait_for(hold.reached.is_set, "Gmail drafts.delete")
        assert kill(proc) == -signal.SIGKILL
    finally:
        hold.release()
    assert draft_id not in account.drafts()
    assert integrity(account.state) == "ok"
    doc = account.scan()
    assert not drafted(doc)
    # the day fills up again: the meeting needs exactly the reply it had; nobody but
    # calbot ever deleted that draft, so it is written again
    for hour in (11, 13, 14):
        account.google.add_event(
            summary=f"Acme sync {hour} again",
            location="Acme office, Room 1",
            start=google_time(account.day, hour),
            end=google_time(account.day, hour + 1),
            organizer={"email": "ana@acme.example"},
            attendees=people("ana@acme.example"),
        )
    account.google.clear_log()
    doc = account.scan()
    assert status_of(doc, eid)["status"] == "new"
    account.assert_one_draft_per_meeting(doc)
