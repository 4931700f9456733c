"""The fault matrix's faults with their own shape: an expired sync token (410), a revoked
grant, an event deleted before its note, a draft the user deleted, and a failing second page
of a long calendar."""

from __future__ import annotations

from datetime import timedelta

import pytest
from builders import google_time
from fault_account import (
    FULL,
    HOURS,
    INCREMENTAL,
    KINDS,
    SCOPES,
    Account,
    assert_no_duplicates,
    assert_recovers,
    assert_sound,
    drafted,
    one_line,
    outcome_of,
    prepare,
)

# --- faults with their own shape --------------------------------------------------------------


def test_410_on_the_sync_token(account, fault_matrix):
    meetings, ledger_before = prepare(account, INCREMENTAL)
    account.google.expire_sync_tokens("primary")
    account.google.clear_log()
    run = account.scan()
    lists = [r.status for r in account.google.requests if r.route == "calendar.events.list"]
    fault_matrix(
        "410 fullSyncRequired on the sync token",
        INCREMENTAL,
        "one fresh full sync; exit 0",
        outcome_of(run, f"events.list {lists}"),
    )
    assert run.code == 0, run.err
    assert lists == [410, 200]
    assert len(drafted(run.doc)) == meetings
    assert account.google.count("gmail.drafts.create") == 1  # the new meeting only
    assert_sound(account, ledger_before)
    assert_recovers(account, meetings, completed=True)


def test_410_has_no_full_scan_case(fault_matrix):
    fault_matrix("410 fullSyncRequired on the sync token", FULL, "n/a (no sync token yet)", "n/a")


@pytest.mark.parametrize("kind", KINDS)
def test_invalid_grant_on_refresh(account, fault_matrix, kind):
    meetings, ledger_before = prepare(account, kind)
    if kind == FULL:
        account.google.write_token(account.token, SCOPES, expired=True)
    account.google.revoke()
    account.google.clear_log()
    run = account.scan()
    fault_matrix(
        "invalid_grant on refresh (revoked)",
        kind,
        "exit 3, one line: run `calbot auth`",
        outcome_of(run, "recovers after `calbot auth`"),
    )
    assert run.code == 3
    assert one_line(run.err) == ("calbot: Google access expired or was revoked — run `calbot auth`")
    assert account.google.count("oauth.token") >= 1
    assert_sound(account, ledger_before)
    assert_recovers(account, meetings)


@pytest.mark.parametrize("kind", KINDS)
def test_event_gone_before_its_note(account, fault_matrix, kind):
    """The event vanished between the list and the patch: its organizer deletes it as the
    first patch arrives, and Google answers 404 to the patch. (Six meetings in both kinds:
    with one gone, five still overload the day, so the others keep their drafts.)"""
    meetings, ledger_before = prepare(account, kind)
    if kind == FULL:
        account.add_meeting(15, "Acme extra")
        meetings += 1
    account.google.clear_log()
    account.google.vanish_on_patch()
    run = account.scan()
    fault_matrix(
        "404 on events.patch (event deleted meanwhile)",
        kind,
        "a warning naming the event; exit 0; next scan drops its draft",
        outcome_of(run),
    )
    assert account.google.pending() == 0 and len(account.google.vanished) == 1
    _, gone = account.google.vanished[0]
    assert account.google.faulted("calendar.events.patch")
    assert run.code == 0, run.err
    assert len(drafted(run.doc)) == meetings
    warnings = run.doc["warnings"]
    assert len(warnings) == 1, warnings
    assert f"primary/{gone}" in warnings[0]
    assert "no longer exists" in warnings[0] and "(404)" in warnings[0]
    assert_sound(account, ledger_before)
    # the next scan hears of the cancellation: the gone meeting's draft is removed, not
    # reported as wanted; every other meeting is drafted and noted; the scan after writes
    # nothing
    after = assert_recovers(account, meetings - 1)
    assert gone not in {m["event_id"] for m in drafted(after.doc)}
    assert not after.doc.get("warnings"), after.doc.get("warnings")
    fault_matrix(
        "404 on events.patch (event deleted meanwhile)",
        kind,
        "a warning naming the event; exit 0; next scan drops its draft",
        outcome_of(run, f"next scan {len(drafted(after.doc))} drafts"),
    )


def test_draft_deleted_between_scans(account, fault_matrix):
    first = account.scan()
    assert first.code == 0, first.err
    gone = drafted(first.doc)[0]
    account.google.user_deletes_draft(gone["draft"]["gmail_draft_id"])
    ledger_before = account.ledger()
    account.google.clear_log()
    run = account.scan()
    row = (
        "draft deleted by the user between scans",
        INCREMENTAL,
        "user_deleted, never re-created; exit 0",
    )
    fault_matrix(*row, outcome_of(run))
    assert run.code == 0, run.err
    status = next(m for m in run.doc["meetings"] if m["event_id"] == gone["event_id"])
    status = status["draft"]["status"] if status["draft"] else None
    fault_matrix(*row, outcome_of(run, f"status {status}"))
    assert status == "user_deleted"
    assert account.google.count("gmail.drafts.create") == 0
    assert_no_duplicates(account)
    assert account.integrity() == "ok"
    assert account.ledger() == ledger_before  # keys and draft ids
    account.google.clear_log()
    again = account.scan()
    assert again.code == 0 and account.writes() == 0
    assert len(account.drafts()) == len(HOURS) - 1


def test_draft_deleted_has_no_full_scan_case(fault_matrix):
    fault_matrix("draft deleted by the user between scans", FULL, "n/a (no draft yet)", "n/a")


# --- a later page of a long calendar ----------------------------------------------------------

FILLERS = 2600  # > 2500, events.list's page: the full sync reads two pages


def add_fillers(account: Account) -> None:
    """A long calendar: 2600 internal half-hours six to ten weeks ahead, past the scan's
    window (so no decision changes), but within the full sync's `timeMin`-only listing."""
    start = account.day + timedelta(days=42)
    for n in range(FILLERS):
        day, slot = start + timedelta(days=n // 20), n % 20
        hh, mm = 8 + slot // 2, 30 * (slot % 2)
        account.google.add_event(
            summary=f"Focus {n}",
            start=google_time(day, hh, mm),
            end=google_time(day, hh, mm + 29),
            organizer={"email": "me@example.com", "self": True},
        )


PAGE_FAULTS = [
    pytest.param(0, (503, 503), "retried; exit 0", id="503 within the budget"),
    pytest.param(4, (503,) * 40, "exit 4, one line", id="503 beyond the budget"),
]


@pytest.mark.parametrize(("code", "statuses", "expected"), PAGE_FAULTS)
def test_second_events_page_fails(account, fault_matrix, code, statuses, expected):
    """The full sync of a calendar with more than one page: the second page, fetched in a
    background thread while the first is converted, fails; the first went through."""
    add_fillers(account)
    account.configure(budget=1)
    account.google.clear_log()
    account.google.fail("calendar.events.list", 200, *statuses, retry_after=0.05)
    run = account.scan()
    account.google.wait_idle()
    lists = [r for r in account.google.requests if r.route == "calendar.events.list"]
    fault_matrix(
        f"{statuses[0]} on the second events.list page ({FILLERS + len(HOURS)} events)",
        FULL,
        expected,
        outcome_of(run, f"{len(lists)} events.list"),
    )
    assert lists[0].status == 200 and "pageToken" not in lists[0].query
    assert all("pageToken" in r.query for r in lists[1:])
    assert [r.status for r in lists[1:]][:2] == [503, 503]
    assert run.code == code, run.err
    if code == 0:
        assert account.google.pending() == 0
        assert len(drafted(run.doc)) == len(HOURS)
    else:
        line = one_line(run.err)
        assert "Google still failing" in line and "reading calendar primary" in line
    assert_sound(account, {})
    assert_recovers(account, len(HOURS), completed=code == 0)
