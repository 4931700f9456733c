"""`calbot scan` against the fake Google server, end to end: the real googleapiclient and
google-auth over HTTP, the CLI's own wiring, a real SQLite state file."""

from __future__ import annotations

import io
import json
import stat
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from builders import google_time, google_toml, next_tuesday

from calbot.cli.main import main

TZ = ZoneInfo("Europe/Berlin")
SCOPES = ["calendar.events", "gmail.compose"]


@pytest.fixture
def account(google, tmp_path, monkeypatch):
    """A user with an overloaded Tuesday next week: five one-hour client meetings."""
    google.user_email = "me@example.com"
    token = tmp_path / "token.json"
    google.write_token(token, SCOPES)
    config = tmp_path / "calbot.toml"
    config.write_text(
        google_toml(google.root, token, tmp_path / "client_secret.json")
        + """
[outputs]
gmail_drafts = true
calendar_notes = true
outbox = ""
note_color = "6"

[limits]
retry_budget_seconds = 20
lock_wait_seconds = 1

[[clients]]
name = "Acme"
domains = ["acme.example"]
timezone = "Europe/London"
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("CALBOT_STATE_DIR", str(tmp_path / "state"))
    day = next_tuesday()
    ids = []
    for hour in (9, 10, 11, 13, 14):
        ev = google.add_event(
            summary=f"Acme sync {hour}",
            description="Agenda: the plan.",
            hangoutLink="https://meet.google.com/abc-defg-hij",
            start=google_time(day, hour),
            end=google_time(day, hour + 1),
            organizer={"email": "ana@acme.example", "displayName": "Ana"},
            attendees=[
                {
                    "email": "ana@acme.example",
                    "displayName": "Ana",
                    "organizer": True,
                    "responseStatus": "accepted",
                },
                {"email": "me@example.com", "self": True, "responseStatus": "accepted"},
            ],
        )
        ids.append(ev["id"])

    class Account:
        pass

    a = Account()
    a.config, a.token, a.ids, a.day = config, token, ids, day
    return a


def scan(account, *extra: str) -> tuple[int, dict]:
    out = io.StringIO()
    code = main(["scan", "--config", str(account.config), "--json", *extra], out=out)
    return code, (json.loads(out.getvalue()) if code == 0 else {})


def writes(google) -> int:
    return sum(
        google.count(r)
        for r in (
            "gmail.drafts.create",
            "gmail.drafts.update",
            "gmail.drafts.delete",
            "calendar.events.patch",
        )
    )


def test_full_scan_drafts_in_gmail_and_notes_in_calendar(google, account):
    code, doc = scan(account)
    assert code == 0
    drafted = [m for m in doc["meetings"] if m["draft"]]
    assert len(drafted) == 1 and drafted[0]["action"] == "reschedule"
    draft = drafted[0]["draft"]
    assert draft["status"] == "new" and draft["gmail_draft_id"] in google.drafts
    msg = google.draft_message(draft["gmail_draft_id"])
    assert [a.addr_spec for a in msg["To"].addresses] == ["ana@acme.example"]
    assert msg["Subject"] == draft["subject"] and "Acme sync 9" in msg["Subject"]
    # one note on the acted meeting, on the user's copy only, with sendUpdates=none
    patches = [r for r in google.requests if r.route == "calendar.events.patch"]
    assert len(patches) == 1
    assert patches[0].query["sendUpdates"] == ["none"]
    assert set(patches[0].body) <= {"extendedProperties", "colorId"}
    noted = google.event("primary", drafted[0]["event_id"])
    assert noted["extendedProperties"]["private"]["calbot_action"] == "reschedule"
    assert noted["extendedProperties"]["private"]["calbot_draft"] == draft["gmail_draft_id"]
    assert noted["colorId"] == "6"
    assert all(r.route not in ("gmail.drafts.send", "gmail.messages.send") for r in google.requests)


def test_unchanged_rescan_costs_one_list_per_calendar_and_writes_nothing(google, account):
    assert scan(account)[0] == 0
    google.clear_log()
    code, doc = scan(account)
    assert code == 0
    assert google.count("calendar.events.list") == 1
    assert google.count("gmail.drafts.list") <= 1
    assert writes(google) == 0
    assert {m["draft"]["status"] for m in doc["meetings"] if m["draft"]} == {"unchanged"}
    assert doc["stats"]["api_requests"] == len(
        [r for r in google.requests if r.route != "oauth.token"]
    )


def test_moved_meeting_updates_its_draft(google, account):
    _, doc = scan(account)
    first = next(m for m in doc["meetings"] if m["draft"])
    # the organizer moves it 30 minutes earlier: still on the overloaded day
    google.update_event(
        "primary",
        first["event_id"],
        start=google_time(account.day, 8, 30),
        end=google_time(account.day, 9, 30),
    )
    google.clear_log()
    _, doc = scan(account)
    again = next(m for m in doc["meetings"] if m["event_id"] == first["event_id"])
    assert again["draft"]["status"] == "updated"
    assert again["draft"]["gmail_draft_id"] == first["draft"]["gmail_draft_id"]
    assert google.count("gmail.drafts.update") == 1 and google.count("gmail.drafts.create") == 0


def test_deleted_draft_is_not_recreated(google, account):
    _, doc = scan(account)
    draft_id = next(m for m in doc["meetings"] if m["draft"])["draft"]["gmail_draft_id"]
    google.user_deletes_draft(draft_id)
    google.clear_log()
    _, doc = scan(account)
    assert next(m for m in doc["meetings"] if m["draft"])["draft"]["status"] == "user_deleted"
    assert google.count("gmail.drafts.create") == 0
    _, doc = scan(account)
    assert google.count("gmail.drafts.create") == 0


def test_expired_access_token_is_refreshed_and_saved(google, account):
    google.write_token(account.token, SCOPES, expired=True)
    before = json.loads(account.token.read_text())
    assert scan(account)[0] == 0
    after = json.loads(account.token.read_text())
    assert after["token"] != before["token"] and google.refreshes >= 1
    assert after["token_uri"] == google.token_uri
    assert stat.S_IMODE(account.token.stat().st_mode) == 0o600


def test_429_and_5xx_are_survived(google, account):
    google.fail("calendar.events.list", 429, 503, retry_after=0.01)
    code, doc = scan(account)
    assert code == 0 and any(m["draft"] for m in doc["meetings"])


def test_410_triggers_exactly_one_full_resync(google, account):
    assert scan(account)[0] == 0
    google.expire_sync_tokens("primary")
    google.clear_log()
    assert scan(account)[0] == 0
    lists = [r for r in google.requests if r.route == "calendar.events.list"]
    assert [r.status for r in lists] == [410, 200]
    assert "syncToken" in lists[0].query and "syncToken" not in lists[1].query
    google.clear_log()
    assert scan(account)[0] == 0
    assert google.count("calendar.events.list") == 1


def test_revoked_access_is_exit_3_with_the_fix(google, account, capsys):
    google.write_token(account.token, SCOPES, expired=True)
    google.revoke()
    code, _ = scan(account)
    err = capsys.readouterr().err
    assert code == 3
    assert err.strip() == "calbot: Google access expired or was revoked — run `calbot auth`"


def test_dry_run_writes_nothing_to_google_or_disk(google, account, tmp_path):
    code, doc = scan(account, "--dry-run")
    assert code == 0 and any(m["draft"] for m in doc["meetings"])
    assert writes(google) == 0
    assert not (tmp_path / "state").exists()


def test_retry_budget_exhausted_is_exit_4(google, account, capsys):
    text = account.config.read_text()
    account.config.write_text(
        text.replace("retry_budget_seconds = 20", "retry_budget_seconds = 1.5")
    )
    google.fail("calendar.events.list", *([503] * 12), retry_after=1)
    code, _ = scan(account)
    assert code == 4
    assert "try again later" in capsys.readouterr().err


def test_no_token_or_secret_in_any_output(google, account, capsys):
    google.write_token(account.token, SCOPES, expired=True)
    google.revoke()
    scan(account)
    token = json.loads(account.token.read_text())
    out = capsys.readouterr()
    for secret in (token["token"], token["refresh_token"], token["client_secret"]):
        assert secret not in out.out and secret not in out.err


def test_doctor_is_all_green(google, account, capsys):
    assert main(["doctor", "--config", str(account.config)]) == 0


def test_review_calendar_holds_one_event_per_draft(google, account):
    text = account.config.read_text()
    text = text.replace('note_color = "6"', 'note_color = "6"\nreview_calendar = true')
    account.config.write_text(text)
    google.write_token(account.token, [*SCOPES, "calendar.app.created"])
    code, doc = scan(account)
    assert code == 0
    review = [c for c in google._cals.values() if c.app_created]
    assert len(review) == 1 and review[0].summary == "calbot review"
    events = list(review[0].events.values())
    holds = [e for e in events if "calbot_hold" in e["extendedProperties"]["private"]]
    (ev,) = [e for e in events if e not in holds]
    drafted = next(m for m in doc["meetings"] if m["draft"])
    assert len(holds) == len(drafted["proposal"]["slots"]) > 0  # one private event per slot
    assert ev["summary"].startswith("✎ reschedule:") and drafted["summary"] in ev["summary"]
    top = max(drafted["factors"], key=lambda f: f["points"])  # the reasons, strongest first
    assert ev["description"].startswith(f"Why:\n- {top['detail']}")
    assert drafted["draft"]["status"] == "new"
    id_file = account.token.parent / "review_calendar_id"
    assert id_file.read_text().strip() == review[0].key
    # nothing changes: no new calendar, no write
    google.clear_log()
    assert scan(account)[0] == 0
    assert google.count("calendar.calendars.insert") == 0 and writes(google) == 0
    assert google.count("calendar.events.insert") == google.count("calendar.events.update") == 0


def test_every_real_scan_is_logged_for_the_digest(google, account, tmp_path):
    from calbot.adapters.sqlite import SqliteStore

    assert scan(account)[0] == 0
    google.write_token(account.token, SCOPES, expired=True)
    google.revoke()
    assert scan(account)[0] == 3
    store = SqliteStore.open(tmp_path / "state", readonly=True)
    runs = store.runs(datetime(2000, 1, 1, tzinfo=TZ))
    reviews = store.reviews()
    store.close()
    assert [r.outcome for r in runs] == ["ok", "auth"]
    assert runs[0].counts["drafted"] == 1 and "calbot auth" in runs[1].error
    assert len(reviews) == 1 and reviews[0].action == "reschedule" and reviews[0].drafts["gmail"]


def test_a_rescan_takes_its_drafts_from_the_memo_not_from_rendering(google, account, monkeypatch):
    # issue 12: the first scan's events come from Google's pages, the rescan's from the
    # cache, now with calbot's note on them: the same drafts, taken as they were
    from calbot.config.template_files import TemplateSource

    code, first = scan(account)
    assert code == 0
    rendered: list[str] = []
    real = TemplateSource.draft

    def counting(self, meeting, *args, **kwargs):
        rendered.append(meeting.event.id)
        return real(self, meeting, *args, **kwargs)

    monkeypatch.setattr(TemplateSource, "draft", counting)
    code, again = scan(account)
    assert code == 0

    def texts(doc):
        return [(m["draft"]["subject"], m["draft"]["body"]) for m in doc["meetings"] if m["draft"]]

    assert texts(again) and texts(again) == texts(first)
    assert rendered == []
