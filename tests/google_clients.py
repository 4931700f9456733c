"""Clients of the fake Google as calbot builds them (real googleapiclient + google-auth),
and the small builders the fake's own tests share (`test_fake_google*.py`)."""

from __future__ import annotations

import base64
import json
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import google_auth_httplib2
import httplib2
from fakes import FakeGoogle
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

EVENTS = "https://www.googleapis.com/auth/calendar.events"
FREEBUSY = "https://www.googleapis.com/auth/calendar.freebusy"
COMPOSE = "https://www.googleapis.com/auth/gmail.compose"


def services(fake: FakeGoogle, scopes: list[str], refresh_token: str = "refresh-1") -> Any:
    """Exactly what calbot does with api_root: its own Credentials, two endpoints."""
    creds = Credentials(
        token=None,
        refresh_token=refresh_token,
        token_uri=fake.token_uri,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        scopes=scopes,
    )
    http = google_auth_httplib2.AuthorizedHttp(creds, http=httplib2.Http(timeout=5))
    cal = build(
        "calendar",
        "v3",
        http=http,
        client_options={"api_endpoint": fake.root + "calendar/v3/"},
        static_discovery=True,
    )
    gmail = build("gmail", "v1", http=http, client_options={"api_endpoint": fake.root})
    return cal, gmail


def signed_in(google: FakeGoogle, tmp_path: Path) -> Any:
    """(calendar, gmail) services signed in with the events and compose scopes."""
    google.write_token(tmp_path / "token.json", [EVENTS, COMPOSE])
    return services(google, [EVENTS, COMPOSE])


def timed(day: int, hour: int, minutes: int = 60, **fields: Any) -> dict[str, Any]:
    start = f"2030-03-{day:02d}T{hour:02d}:00:00+00:00"
    end_h, end_m = divmod(hour * 60 + minutes, 60)
    end = f"2030-03-{day:02d}T{end_h:02d}:{end_m:02d}:00+00:00"
    return {"start": {"dateTime": start}, "end": {"dateTime": end}, **fields}


def raw_message(msgid: str = "<calbot-1@calbot.local>", body: str = "Hello") -> str:
    msg = EmailMessage()
    msg["From"] = "me@example.com"
    msg["To"] = "minh@acme.example"
    msg["Subject"] = "About our Tuesday meeting"
    msg["Message-ID"] = msgid
    msg.set_content(body)
    return base64.urlsafe_b64encode(msg.as_bytes()).decode()


def reason(err: HttpError) -> str:
    return str(json.loads(err.content)["error"]["errors"][0]["reason"])
