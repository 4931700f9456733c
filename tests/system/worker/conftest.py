"""`calbot run`, the unattended worker (this directory): the Google account its tests scan,
five Acme meetings next Tuesday and a config that scans them every second."""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import pytest
from builders import google_time, google_toml, next_tuesday
from worker_rig import CONFIG, SCOPES


@pytest.fixture
def account(google: Any, tmp_path: Path) -> types.SimpleNamespace:
    """An overloaded Tuesday next week (five one-hour Acme meetings) and a config that
    scans it every second."""
    google.user_email = "me@example.com"
    token = tmp_path / "token.json"
    secret = tmp_path / "client_secret.json"
    google.write_token(token, SCOPES)
    google.write_client_secret(secret)
    config = tmp_path / "calbot.toml"
    config.write_text(google_toml(google.root, token, secret) + CONFIG, encoding="utf-8")
    access_token = json.loads(token.read_text(encoding="utf-8"))["token"]
    day = next_tuesday()
    for hour in (9, 10, 11, 13, 14):
        # the meeting calbot drafts for has the access token pasted into its title: the
        # worker logs titles, so its scrubber must mask it
        title = f"Acme sync {hour}" + (f" (token {access_token})" if hour == 9 else "")
        google.add_event(
            summary=title,
            description="Agenda: the plan.",
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
    return types.SimpleNamespace(
        config=config, token=token, secret=secret, state=tmp_path / "state", tmp=tmp_path
    )
