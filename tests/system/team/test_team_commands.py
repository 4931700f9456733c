"""`calbot team migrate | add-user | users | scan | status | remove-user | digest` on a real
PostgreSQL, a real Redis (the request budgets) and the many-user fake Google, through the
CLI's own `main`: the service account's delegated credentials, the real googleapiclient."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fakes.team import TeamFakeGoogle
from servers.redis_server import RedisServer
from servers.team_engine import digest_drafts, overload, team_defaults

from calbot.cli.main import main
from calbot.team.pg_store import connect
from calbot.team.pg_users import get_user
from calbot.team.secrets import new_key
from calbot.team.user_scan import acquire_user_lock

TZ = ZoneInfo("Europe/Berlin")
ANA, BO, CY = "ana@agency.example", "bo@agency.example", "cy@agency.example"
WRITES = ("gmail.drafts.create", "gmail.drafts.update", "gmail.drafts.delete")


DEFAULTS = team_defaults(retry_budget_seconds=5)


@dataclass
class Team:
    fake: TeamFakeGoogle
    folder: Path
    config: Path
    url: str
    broker: str
    secrets: tuple[str, ...]  # what no output may ever contain

    def run(self, *args: str) -> tuple[int, str, str]:
        out = io.StringIO()
        err = io.StringIO()
        import contextlib

        with contextlib.redirect_stderr(err):
            code = main(["team", *args[:1], "--team-config", str(self.config), *args[1:]], out=out)
        text, errors = out.getvalue(), err.getvalue()
        with self.fake._lock:  # every access and refresh token the fake issued
            issued = [*self.fake.token_subjects, *self.fake.refresh_owners]
        for secret in (*self.secrets, *issued):
            assert secret not in text and secret not in errors
        return code, text, errors

    def user_config(self, email: str, extra: str = "") -> Path:
        path = self.folder / f"{email}.toml"
        path.write_text(f'[user]\nemail = "{email}"\nname = "Someone"\n{extra}', encoding="utf-8")
        return path


@pytest.fixture
def team(
    team_google: TeamFakeGoogle,
    team_db: str,
    redis_server: RedisServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Team]:
    key_file = tmp_path / "service-account.json"
    team_google.write_service_account(key_file)
    secret = new_key()
    monkeypatch.setenv("CALBOT_SECRET_KEY", secret)
    config = tmp_path / "team.toml"
    config.write_text(
        f'[team]\ndatabase_url = "{team_db}"\nbroker_url = "{redis_server.url}"\n\n'
        f'[google]\nservice_account_file = "{key_file}"\napi_root = "{team_google.root}"\n'
        + DEFAULTS,
        encoding="utf-8",
    )
    private_key = json.loads(key_file.read_text())["private_key"]
    body = private_key.split("-----")[2].strip().splitlines()[1]
    yield Team(team_google, tmp_path, config, team_db, redis_server.url, (secret, body))


def scan_json(team: Team, email: str, *extra: str) -> dict:  # type: ignore[type-arg]
    code, out, err = team.run("scan", email, "--json", *extra)
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def single_user_dry_run(team: Team, email: str) -> dict:  # type: ignore[type-arg]
    """What `calbot scan` (SQLite, the user's own token) would do with the same merged
    config, before anything was written."""
    token = team.folder / f"{email}-token.json"
    team.fake.write_user_token(email, token, ["calendar.events", "gmail.compose"])
    config = team.folder / f"{email}-single.toml"
    user_defaults, rest = DEFAULTS.split("[defaults.source]")
    config.write_text(
        user_defaults.replace("[defaults.user]", f'[user]\nemail = "{email}"\nname = "Someone"')
        + ("[source]" + rest).replace("[defaults.", "[").replace("[[defaults.", "[[")
        + f'\n[google]\napi_root = "{team.fake.root}"\ntoken_file = "{token}"\n',
        encoding="utf-8",
    )
    out = io.StringIO()
    code = main(["scan", "--config", str(config), "--json", "--dry-run"], out=out)
    assert code == 0
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


def plan(doc: dict) -> list[tuple[str, str, str]]:  # type: ignore[type-arg]
    return sorted((m["event_id"], m["action"], str(bool(m["draft"]))) for m in doc["meetings"])


def test_add_user_then_scan_makes_the_single_user_drafts_and_a_rescan_writes_nothing(
    team: Team, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CALBOT_STATE_DIR", str(tmp_path / "single-state"))
    assert team.run("migrate")[0] == 0
    code, out, _ = team.run("migrate")
    assert code == 0 and "already current" in out
    overload(team.fake, ANA)
    assert team.run("add-user", str(team.user_config(ANA)))[1] == f"added {ANA}\n"
    expected = single_user_dry_run(team, ANA)
    assert any(m["draft"] for m in expected["meetings"])  # the test can fail

    team.fake.clear_log()
    single_user_requests = len(team.fake.requests_of(ANA))  # not through the budgets
    doc = scan_json(team, ANA)
    assert plan(doc) == plan(expected)
    drafts = team.fake.drafts_of(ANA)
    assert len(drafts) == sum(1 for m in doc["meetings"] if m["draft"]) == doc["stats"]["drafted"]
    assert team.fake.drafts_of(BO) == {}
    # every API request ana made took one from her budget in Redis (token requests none)
    import redis

    client = redis.Redis.from_url(team.broker)
    team_requests = len(team.fake.requests_of(ANA)) - single_user_requests
    assert client.zcard(f"calbot:budget:user:{ANA}") == team_requests > 0
    client.close()

    team.fake.clear_log()
    again = scan_json(team, ANA)
    assert plan(again) == plan(doc) and again["stats"]["drafted"] == 0
    assert sum(team.fake.count(r) for r in WRITES) == 0
    assert team.fake.drafts_of(ANA) == drafts

    # the users list and a dry run (which writes nothing, not even the status row)
    code, out, _ = team.run("users", "--json")
    users = json.loads(out)
    assert [u["email"] for u in users] == [ANA] and users[0]["outcome"] == "ok"
    assert users[0]["drafts_pending"] == len(drafts)
    before = users[0]["last_scan_at"]
    scan_json(team, ANA, "--dry-run")
    assert json.loads(team.run("users", "--json")[1])[0]["last_scan_at"] == before

    # the digest: printed, its HTML kept in PostgreSQL
    code, out, err = team.run("digest", ANA)
    assert code == 0, err
    assert "Acme" in out
    conn = connect(team.url)
    row = conn.execute("SELECT digest_html FROM users WHERE email = %s", (ANA,)).fetchone()
    conn.close()
    assert row[0] and "<html" in row[0].lower()


def test_a_second_scan_of_one_user_waits_then_exits_75_and_races_make_no_duplicates(
    team: Team,
) -> None:
    assert team.run("migrate")[0] == 0
    overload(team.fake, ANA)
    team.run("add-user", str(team.user_config(ANA)))
    holder = connect(team.url)
    user = get_user(holder, ANA)
    assert acquire_user_lock(holder, user.user_id, 0)
    started = datetime.now(TZ)
    code, _, err = team.run("scan", ANA)
    waited = (datetime.now(TZ) - started).total_seconds()
    assert code == 75 and "already running" in err
    assert waited >= 1.0  # lock_wait_seconds = 1 in the defaults
    assert team.fake.drafts_of(ANA) == {}
    holder.close()  # the lock goes with its connection

    codes: list[int] = []

    def scan() -> None:
        codes.append(team.run("scan", ANA)[0])

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # the second waited for the first, or gave up after lock_wait_seconds: never both at once
    assert sorted(codes) in ([0, 0], [0, 75])
    drafts = team.fake.drafts_of(ANA)
    team.fake.clear_log()
    doc = scan_json(team, ANA)
    assert sum(team.fake.count(r) for r in WRITES) == 0
    assert team.fake.drafts_of(ANA) == drafts
    assert len(team.fake.drafts_of(ANA)) == sum(1 for m in doc["meetings"] if m["draft"])


def test_status_shows_a_broken_config_and_a_revoked_delegation_with_the_fix(team: Team) -> None:
    assert team.run("migrate")[0] == 0
    for email in (ANA, BO, CY):
        overload(team.fake, email)
        assert team.run("add-user", str(team.user_config(email)))[0] == 0
    # cy's stored config goes bad (as if the defaults changed under it); bo's delegation ends
    conn = connect(team.url)
    conn.execute(
        "UPDATE users SET config = config || %s WHERE email = %s",
        ('\n[limits]\nlock_wait_seconds = "soon"\n', CY),
    )
    conn.close()
    team.fake.revoke_delegation(BO)
    assert team.run("scan", ANA)[0] == 0
    code, _, err = team.run("scan", BO)
    assert code == 3 and "Domain-wide delegation" in err and "calbot auth" not in err
    code, _, err = team.run("scan", CY)
    assert code == 2 and "lock_wait_seconds" in err
    assert team.fake.drafts_of(ANA) and not team.fake.drafts_of(BO)

    code, out, _ = team.run("status", "--json")
    status = {u["email"]: u for u in json.loads(out)}
    assert status[ANA]["outcome"] == "ok" and status[ANA]["error"] is None
    assert status[BO]["outcome"] == "auth" and "Domain-wide delegation" in status[BO]["fix"]
    assert status[CY]["outcome"] == "failed" and "lock_wait_seconds" in status[CY]["error"]
    assert "add-user" in status[CY]["fix"]
    code, text, _ = team.run("status")
    assert code == 0 and "Domain-wide delegation" in text and "lock_wait_seconds" in text
    assert "token" not in json.dumps(status).replace("has_token", "")


def test_add_user_validates_first_and_remove_user_keeps_drafts(team: Team) -> None:
    assert team.run("scan", ANA)[0] == 2  # not migrated: the fix is named
    assert team.run("migrate")[0] == 0
    bad = team.user_config(ANA, '\n[outputs]\noutbox = "/tmp/x"\n')
    code, _, err = team.run("add-user", str(bad))
    assert code == 2 and "outputs.outbox" in err
    assert json.loads(team.run("users", "--json")[1]) == []

    token = team.folder / "bo-token.json"
    team.fake.write_user_token(BO, token, ["calendar.events", "gmail.compose"])
    code, out, _ = team.run("add-user", str(team.user_config(BO)), "--token", str(token))
    assert code == 0 and "encrypted token" in out
    access = json.loads(token.read_text())["token"]
    conn = connect(team.url)
    stored = conn.execute("SELECT token FROM users WHERE email = %s", (BO,)).fetchone()[0]
    assert access.encode() not in bytes(stored)

    # bo, outside the domain, scans with the stored token (refreshed and re-saved)
    overload(team.fake, BO)
    team.fake.expire_access_tokens()
    code, _, err = team.run("scan", BO)
    assert code == 0, err
    assert team.fake.drafts_of(BO) and team.fake.refreshes == 1
    resaved = conn.execute("SELECT token FROM users WHERE email = %s", (BO,)).fetchone()[0]
    assert bytes(resaved) != bytes(stored)

    overload(team.fake, ANA)
    team.run("add-user", str(team.user_config(ANA)))
    assert team.run("scan", ANA)[0] == 0
    drafts = team.fake.drafts_of(ANA)
    ana_id = get_user(conn, ANA).user_id
    assert conn.execute("SELECT count(*) FROM decisions WHERE user_id = %s", (ana_id,)).fetchone()[
        0
    ]
    code, out, _ = team.run("remove-user", ANA)
    assert code == 0 and "drafts" in out and "left as they are" in out
    assert team.fake.drafts_of(ANA) == drafts
    for table in ("decisions", "sink_records", "event_cache", "runs", "reviews"):
        left = conn.execute(
            f"SELECT count(*) FROM {table} WHERE user_id = %s",
            (ana_id,),
        ).fetchone()[0]
        assert left == 0, table
    assert conn.execute("SELECT count(*) FROM decisions").fetchone()[0]  # bo's stay
    assert [u["email"] for u in json.loads(team.run("users", "--json")[1])] == [BO]
    assert team.run("remove-user", ANA)[0] == 2
    conn.close()


def review_calendars(fake: TeamFakeGoogle, email: str) -> dict[str, int]:
    """The user's "calbot review" calendars: id → number of events on it."""
    with fake.as_user(email):
        cals = fake._cals.values()
        return {c.key: len(c.events) for c in cals if c.summary == "calbot review"}


def test_the_review_calendar_is_made_once_its_id_kept_in_postgresql_and_no_file(
    team: Team, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "home"  # where a single user's id file would go (beside the token)
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))  # no draft memo there either
    assert team.run("migrate")[0] == 0
    overload(team.fake, ANA)
    config = team.user_config(ANA, "\n[outputs]\nreview_calendar = true\n")
    code, _, err = team.run("add-user", str(config))
    assert code == 0, err

    scan_json(team, ANA, "--dry-run")  # a dry run makes no calendar and keeps no id
    assert review_calendars(team.fake, ANA) == {}
    conn = connect(team.url)
    query = "SELECT review_calendar_id FROM users WHERE email = %s"
    assert conn.execute(query, (ANA,)).fetchone()[0] is None

    doc = scan_json(team, ANA)
    (cid,) = review_calendars(team.fake, ANA)
    assert review_calendars(team.fake, ANA)[cid] >= sum(1 for m in doc["meetings"] if m["draft"])
    assert review_calendars(team.fake, ANA)[cid] > 0  # the test can fail
    assert conn.execute(query, (ANA,)).fetchone()[0] == cid
    assert team.fake.count("calendar.calendars.insert") == 1

    team.fake.clear_log()
    again = scan_json(team, ANA)
    assert again["stats"]["drafted"] == 0
    assert team.fake.count("calendar.calendars.insert") == 0  # the kept id, reused
    assert list(review_calendars(team.fake, ANA)) == [cid]
    assert conn.execute(query, (ANA,)).fetchone()[0] == cid
    conn.close()
    files = [p for p in home.rglob("*") if p.is_file()]
    assert [p for p in files if "templates" not in p.parts] == []  # no state, no draft text


def test_the_digest_leaves_one_gmail_copy_a_rerun_rewrites_it(team: Team) -> None:
    assert team.run("migrate")[0] == 0
    for email in (ANA, BO):
        overload(team.fake, email)
        assert team.run("add-user", str(team.user_config(email)))[0] == 0
        assert team.run("scan", email)[0] == 0
    replies = len(team.fake.drafts_of(ANA))

    team.fake.clear_log()
    code, out, err = team.run("digest", ANA)
    assert code == 0, err
    (copy,) = digest_drafts(team.fake, ANA)
    with team.fake.as_user(ANA):
        msg = team.fake.draft_message(copy)
    assert [a.addr_spec for a in msg["To"].addresses] == [ANA]
    plain = msg.get_body(("plain",))
    assert plain is not None and "Acme" in plain.get_content()
    assert len(team.fake.drafts_of(ANA)) == replies + 1
    assert team.fake.count("gmail.drafts.create") == 1
    assert digest_drafts(team.fake, BO) == []  # each user's copy in their own mailbox

    # a rerun the same day (a retried or redelivered digest task): the copy is rewritten,
    # even when the first run's row never committed (nothing on the row to go by)
    conn = connect(team.url)
    conn.execute("UPDATE users SET digest_html = NULL WHERE email = %s", (ANA,))
    conn.execute("DELETE FROM meta WHERE user_id = (SELECT id FROM users WHERE email = %s)", (ANA,))
    assert team.run("digest", ANA)[0] == 0
    assert digest_drafts(team.fake, ANA) == [copy]
    assert team.fake.count("gmail.drafts.create") == 1
    assert team.fake.count("gmail.drafts.update") == 1

    # no Gmail copy possible (delegation revoked): the digest still prints and is kept,
    # and says why
    team.fake.revoke_delegation(BO)
    code, out, err = team.run("digest", BO)
    assert code == 0, err
    assert "could not be left in Gmail" in out and "Domain-wide delegation" in out
    assert "calbot auth" not in out  # the single user's fix does not apply here
    assert digest_drafts(team.fake, BO) == []
    row = conn.execute("SELECT digest_html FROM users WHERE email = %s", (BO,)).fetchone()
    conn.close()
    assert row[0] and "<html" in row[0].lower()
