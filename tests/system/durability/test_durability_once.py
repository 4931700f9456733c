"""Each exactly-once case at the command line (a rerun, a material change, a deleted draft,
lost state), and two scans at once: one waits for the state lock, and a killed holder leaves
no stale lock."""

from __future__ import annotations

import shutil
import time
from collections import Counter

import pytest
from durability_rig import (
    CHANGES,
    DEADLINE,
    Account,
    Hold,
    drafted,
    finish,
    kill,
    status_of,
    wait_for,
)

# --- each exactly-once case, at the command line ------------------------------------------


def test_rerun_with_nothing_changed_writes_nothing(account):
    first = account.scan()
    assert len(drafted(first)) == 5
    account.google.clear_log()
    again = account.scan()
    assert account.writes() == Counter()
    assert {m["draft"]["status"] for m in drafted(again)} == {"unchanged"}
    account.assert_one_draft_per_meeting(again)


def test_a_material_change_updates_the_same_draft_never_a_second(account):
    doc = account.scan()
    eid = account.ids[0]
    draft_id = status_of(doc, eid)["gmail_draft_id"]
    for what, change in CHANGES.items():
        before = account.google.draft_message(draft_id).as_bytes()
        change(account, eid)
        account.google.clear_log()
        doc = account.scan()
        draft = status_of(doc, eid)
        assert draft["gmail_draft_id"] == draft_id, what
        assert account.google.count("gmail.drafts.create") == 0, what
        text_changed = account.google.draft_message(draft_id).as_bytes() != before
        # rewritten in place when its text depends on the change, left alone otherwise
        assert draft["status"] == ("updated" if text_changed else "unchanged"), what
        assert account.google.count("gmail.drafts.update") == int(text_changed), what
        account.assert_one_draft_per_meeting(doc)


def test_a_draft_the_user_deleted_is_never_recreated_for_the_same_decision(account):
    doc = account.scan()
    eid = account.ids[0]
    account.google.user_deletes_draft(status_of(doc, eid)["gmail_draft_id"])
    for _ in range(2):
        account.google.clear_log()
        doc = account.scan()
        assert status_of(doc, eid)["status"] == "user_deleted"
        assert account.google.count("gmail.drafts.create") == 0
        assert account.google.count("gmail.drafts.update") == 0
    # only a material change of the meeting re-opens it: one new draft, not two
    CHANGES["moved"](account, eid)
    account.google.clear_log()
    doc = account.scan()
    assert status_of(doc, eid)["status"] == "new"
    assert account.google.count("gmail.drafts.create") == 1
    account.assert_one_draft_per_meeting(doc)


@pytest.mark.parametrize("what", ["shortened", "relocated", "attendees changed"])
def test_deleted_after_a_change_that_left_the_text_alone_stays_deleted(account, what):
    doc = account.scan()
    eid = account.ids[1]
    CHANGES[what](account, eid)
    doc = account.scan()
    assert status_of(doc, eid)["status"] == "unchanged"
    account.google.user_deletes_draft(status_of(doc, eid)["gmail_draft_id"])
    account.google.clear_log()
    doc = account.scan()  # nothing about the meeting changed since the user deleted it
    assert account.google.count("gmail.drafts.create") == 0
    assert status_of(doc, eid)["status"] == "user_deleted"


def test_lost_state_adopts_the_drafts_by_message_id(account):
    first = account.scan()
    by_event = {m["event_id"]: m["draft"]["gmail_draft_id"] for m in drafted(first)}
    shutil.rmtree(account.state)  # the state file, its WAL, the lock: all gone
    account.google.clear_log()
    doc = account.scan()
    assert account.google.count("gmail.drafts.create") == 0
    assert {m["event_id"]: m["draft"]["gmail_draft_id"] for m in drafted(doc)} == by_event
    assert {m["draft"]["status"] for m in drafted(doc)} == {"unchanged"}
    account.assert_one_draft_per_meeting(doc)
    account.google.clear_log()
    account.scan()
    assert account.writes() == Counter()


# --- two scans at once --------------------------------------------------------------------


def test_two_concurrent_scans_one_waits_then_exits_75(account):
    """Both start at once. Whichever takes the lock first is held on its calendar read
    until the other has waited for the lock (lock_wait_seconds = 1) and given up: exit 75,
    one line on stderr, nothing written by it."""
    hold = Hold(account.google, "GET", "/events", 1)
    procs = [account.start(), account.start()]
    try:
        wait_for(hold.reached.is_set, "the lock holder's calendar read")
        wait_for(lambda: any(p.poll() is not None for p in procs), "the other scan to give up")
    finally:
        hold.release()
    results = [finish(p) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 75], [err for _, _, err in results]
    (doc,) = [doc for code, doc, _ in results if code == 0]
    (err,) = [err for code, _, err in results if code == 75]
    assert len(err.strip().splitlines()) == 1 and "another calbot" in err, err
    assert account.google.count("calendar.events.list") == 1  # the loser read nothing
    assert account.google.count("gmail.drafts.create") == 5
    account.assert_one_draft_per_meeting(doc)


def test_two_concurrent_scans_with_a_long_wait_both_succeed_one_after_the_other(google, tmp_path):
    account = Account(google, tmp_path, lock_wait=30)
    account.google.delay("calendar.events.list", 1.5)
    procs = [account.start(), account.start()]
    results = [finish(p) for p in procs]
    assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
    # the first writes every draft, the second (after waiting for the lock) finds them all
    statuses = sorted(sorted({m["draft"]["status"] for m in drafted(doc)}) for _, doc, _ in results)
    assert statuses == [["new"], ["unchanged"]]
    assert account.google.count("gmail.drafts.create") == 5
    account.assert_one_draft_per_meeting(results[0][1])


def test_a_killed_lock_holder_does_not_block_the_next_scan(account):
    """flock dies with its holder: a scan killed mid-way leaves no stale lock behind."""
    hold = Hold(account.google, "POST", "/users/me/drafts", 2)
    proc = account.start()
    try:
        wait_for(hold.reached.is_set, "the second draft")
        kill(proc)
    finally:
        hold.release()
    started = time.monotonic()
    doc = account.scan()  # lock_wait_seconds = 1: it would exit 75 on a stale lock
    assert time.monotonic() - started < DEADLINE
    account.assert_one_draft_per_meeting(doc)
