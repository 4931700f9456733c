"""Domain-wide delegation end to end: the real google-auth signs the service-account grant,
the fake Google verifies it (signature with the key's public half, iss, aud, exp, scope) and
issues a token acting as `sub`; each user then sees only their own calendar and drafts."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import google_auth_httplib2
import httplib2
import pytest
from fakes.team import TeamFakeGoogle, api_client, at, event_summaries
from google.auth import crypt, jwt
from google.auth.exceptions import RefreshError
from google.oauth2 import _client

from calbot.team.credentials import ServiceAccountKey

ANA, BO = "ana@agency.example", "bo@agency.example"
EVENTS = "https://www.googleapis.com/auth/calendar.events"
COMPOSE = "https://www.googleapis.com/auth/gmail.compose"
GOOGLE_AUD = "https://oauth2.googleapis.com/token"


@pytest.fixture
def key_file(team_google: TeamFakeGoogle, tmp_path: Path) -> Path:
    path = tmp_path / "service-account.json"
    team_google.write_service_account(path)
    with team_google.as_user(ANA):
        team_google.add_event(summary="Ana with Acme", start=at(9), end=at(10))
    with team_google.as_user(BO):
        team_google.add_event(summary="Bo with Cobalt", start=at(11), end=at(12))
        team_google.add_event(summary="Bo with Delta", start=at(14), end=at(15))
    return path


def test_each_delegated_user_reads_only_their_own_calendar(
    team_google: TeamFakeGoogle, key_file: Path
) -> None:
    key = ServiceAccountKey.load(key_file)
    ana, bo = key.for_user(ANA, [EVENTS]), key.for_user(BO, [EVENTS])
    assert event_summaries(team_google, ana) == ["Ana with Acme"]
    assert event_summaries(team_google, bo) == ["Bo with Cobalt", "Bo with Delta"]
    # two grants, one per user: the credentials are per user, not shared
    assert sorted(team_google.token_subjects.values()) == [ANA, BO]
    assert ana.token != bo.token
    assert "PRIVATE KEY" not in repr(key) and "private_key" not in repr(key)


def test_drafts_land_in_the_delegated_users_own_mailbox(
    team_google: TeamFakeGoogle, key_file: Path
) -> None:
    key = ServiceAccountKey.load(key_file)
    gmail = api_client(team_google, key.for_user(BO, [COMPOSE]), "gmail")
    raw = base64.urlsafe_b64encode(b"To: x@cobalt.example\r\nSubject: hi\r\n\r\nhello").decode()
    gmail.users().drafts().create(userId="me", body={"message": {"raw": raw}}).execute()
    assert len(team_google.drafts_of(BO)) == 1
    assert team_google.drafts_of(ANA) == {}


def test_revoked_delegation_refuses_that_user_only(
    team_google: TeamFakeGoogle, key_file: Path
) -> None:
    key = ServiceAccountKey.load(key_file)
    team_google.revoke_delegation(ANA)
    with pytest.raises(RefreshError, match="unauthorized_client"):
        event_summaries(team_google, key.for_user(ANA, [EVENTS]))
    assert event_summaries(team_google, key.for_user(BO, [EVENTS])) == [
        "Bo with Cobalt",
        "Bo with Delta",
    ]


def test_a_scope_the_admin_did_not_delegate_is_refused(
    team_google: TeamFakeGoogle, tmp_path: Path
) -> None:
    path = tmp_path / "narrow.json"
    team_google.write_service_account(
        path,
        client_email="narrow@calbot-fake.iam.gserviceaccount.com",
        delegated=["calendar.events"],
    )
    creds = ServiceAccountKey.load(path).for_user(ANA, [COMPOSE])
    with pytest.raises(RefreshError, match="unauthorized_client"):
        api_client(team_google, creds, "gmail").users().drafts().list(userId="me").execute()


def test_a_key_the_fake_did_not_issue_is_refused(
    team_google: TeamFakeGoogle, key_file: Path
) -> None:
    other = key_file.with_name("other.json")
    team_google.write_service_account(
        other, client_email="other@calbot-fake.iam.gserviceaccount.com"
    )
    info = json.loads(key_file.read_text())
    info["private_key"] = json.loads(other.read_text())["private_key"]  # same kid, wrong key
    forged = key_file.with_name("forged.json")
    forged.write_text(json.dumps(info))
    forged.chmod(0o600)
    with pytest.raises(RefreshError, match="Invalid JWT Signature"):
        event_summaries(team_google, ServiceAccountKey.load(forged).for_user(ANA, [EVENTS]))


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"exp": -60, "iat": -3660}, "short-lived token"),
        ({"aud": "https://evil.example/token"}, "audience"),
        ({"iss": "stranger@elsewhere.example"}, "invalid_client"),
        ({"exp": 7200}, "short-lived token"),  # longer than an hour
    ],
)
def test_a_bad_grant_jwt_is_refused(
    team_google: TeamFakeGoogle, key_file: Path, change: dict[str, Any], refusal: str
) -> None:
    info = json.loads(key_file.read_text())
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": info["client_email"],
        "aud": GOOGLE_AUD,
        "scope": EVENTS,
        "sub": ANA,
        "iat": now,
        "exp": now + 3600,
    }
    for name, value in change.items():
        claims[name] = now + value if isinstance(value, int) else value
    assertion = jwt.encode(crypt.RSASigner.from_service_account_info(info), claims)
    request = google_auth_httplib2.Request(httplib2.Http(timeout=10))
    # the unchanged claims are granted (the test can fail the other way too)
    good = {**claims, "iss": info["client_email"], "aud": GOOGLE_AUD, "iat": now, "exp": now + 3600}
    token, _, _ = _client.jwt_grant(
        request,
        team_google.token_uri,
        jwt.encode(crypt.RSASigner.from_service_account_info(info), good),
    )
    assert team_google.token_subjects[token] == ANA
    with pytest.raises(RefreshError, match=refusal):
        _client.jwt_grant(request, team_google.token_uri, assertion, can_retry=False)


def test_a_team_users_merged_config_reads_their_calendar_through_calbots_adapter(
    team_google: TeamFakeGoogle, key_file: Path
) -> None:
    from calbot.adapters.google.api import connect
    from calbot.team.config import parse_team_settings, user_settings

    team = parse_team_settings(
        {
            "team": {"database_url": "postgresql://db/x", "broker_url": "redis://r/0"},
            "google": {"service_account_file": str(key_file), "api_root": team_google.root},
            "defaults": {
                "user": {"timezone": "Europe/Berlin"},
                "outputs": {"gmail_drafts": False},
                "clients": [{"name": "Acme", "domains": ["acme.example"]}],
            },
        },
        path="team.toml",
        env={"CALBOT_SECRET_KEY": "unused-here"},
    )
    seen = {}
    for email in (ANA, BO):
        settings = user_settings(team, {"user": {"email": email}}, path=f"{email}.toml")
        api = connect(settings)
        items = api.call(api.calendar.events().list(calendarId="primary"), what="reading")
        seen[email] = sorted(e["summary"] for e in items["items"])
    assert seen == {ANA: ["Ana with Acme"], BO: ["Bo with Cobalt", "Bo with Delta"]}
