"""The task log line's last line of defence: credential-looking text is scrubbed."""

from __future__ import annotations

import pytest

pytest.importorskip("celery")

from calbot.team.celery import scrub, transport_options


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("OperationalError: postgresql://calbot:hunter2@db:5432/team refused", "hunter2"),
        ("redis://:s3cret@redis:6379/0 unreachable", "s3cret"),
        ("sent Authorization: Bearer ya29.a0AfH6SM", "ya29.a0AfH6SM"),
        ("POST token refresh_token=1//0gabc&client_id=x", "1//0gabc"),
    ],
)
def test_credentials_are_scrubbed_and_the_rest_kept(text: str, secret: str) -> None:
    clean = scrub(text)
    assert secret not in clean and "***" in clean
    assert clean.startswith(text[: text.index(secret)])  # what came before is kept


def test_unacknowledged_tasks_are_looked_for_within_a_fifth_of_the_timeout() -> None:
    assert transport_options(3600) == {
        "visibility_timeout": 3600,
        "unacked_restore_interval": 60,
        "unacked_restore_throttle": 1,
    }
    assert transport_options(6)["unacked_restore_interval"] == 1
