"""A secret calendar address is shown only as its scheme, host and last path segment."""

from __future__ import annotations

import pytest

from calbot.core.redact import redact_location


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        (
            "https://calendar.google.com/calendar/ical/me%40gmail.com/private-0a1b2c3d4e5f/basic.ics",
            "https://calendar.google.com/…/basic.ics",
        ),
        (
            "https://u:pw@cal.example.net:8443/team/cal.ics",
            "https://cal.example.net:8443/…/cal.ics",
        ),
        ("https://cal.example.net/feed.ics?token=s3cr3t", "https://cal.example.net/feed.ics?…"),
        ("https://cal.example.net/feeds/a1b2c3d4e5f6a7b8c9d0.ics", "https://cal.example.net/…"),
        (
            "webcal://p01.icloud.com/published/2/MTIzNDU2Nzg5MTIzNDU2Nzg5",
            "webcal://p01.icloud.com/…",
        ),
        ("https://cal.example.net/team/cal.ics", "https://cal.example.net/team/cal.ics"),
        ("http://[::1]:8080/cal.ics", "http://[::1]:8080/cal.ics"),
        ("/home/me/cal.ics", "/home/me/cal.ics"),
        ("my.ics", "my.ics"),
        ("http://host:99999/x", "…"),  # unreadable: nothing of it
    ],
)
def test_redact_location(location: str, shown: str) -> None:
    assert redact_location(location) == shown


def test_nothing_secret_survives() -> None:
    for secret in ("0a1b2c3d4e5f", "me%40gmail.com", "s3cr3t", "pw"):
        url = f"https://u:pw@h.example/x/{secret}/private-{secret}/basic.ics?k={secret}#{secret}"
        assert secret not in redact_location(url)
