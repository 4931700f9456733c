"""A user outside the Workspace domain: their OAuth token stored encrypted, used through the
real google-auth, refreshed by the fake's token endpoint and re-saved encrypted at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes.team import TeamFakeGoogle, at, event_summaries

from calbot.errors import TokenFileError
from calbot.team.credentials import oauth_for_user
from calbot.team.secrets import SecretBox, new_key

CARA = "cara@freelance.example"


class DictVault:
    """The vault protocol over a dict (the PostgreSQL store will hold these rows)."""

    def __init__(self) -> None:
        self.rows: dict[str, bytes] = {}
        self.saves = 0

    def load_token(self, user: str) -> bytes | None:
        return self.rows.get(user)

    def save_token(self, user: str, blob: bytes) -> None:
        self.rows[user] = blob
        self.saves += 1


def test_refreshed_token_is_re_saved_encrypted(team_google: TeamFakeGoogle, tmp_path: Path) -> None:
    token_file = tmp_path / "cara-token.json"
    team_google.write_user_token(CARA, token_file, ["calendar.events"])
    with team_google.as_user(CARA):
        team_google.add_event(summary="Cara with Acme", start=at(9), end=at(10))
    box, vault = SecretBox([new_key().encode()]), DictVault()
    vault.save_token(CARA, box.encrypt(json.loads(token_file.read_text())))
    token_file.unlink()  # only the encrypted copy remains

    creds = oauth_for_user(CARA, vault, box)
    assert event_summaries(team_google, creds) == ["Cara with Acme"]
    assert team_google.refreshes == 0 and vault.saves == 1

    team_google.expire_access_tokens()  # the API answers 401: google-auth refreshes
    before = vault.rows[CARA]
    assert event_summaries(team_google, creds) == ["Cara with Acme"]
    assert team_google.refreshes == 1 and vault.saves == 2
    stored = box.decrypt(vault.rows[CARA], who=CARA)
    assert stored["token"] == creds.token != box.decrypt(before, who=CARA)["token"]
    assert stored["token_uri"] == team_google.token_uri  # kept, not replaced by Google's
    assert creds.token.encode() not in vault.rows[CARA]
    assert creds.token not in repr(creds) and "refresh" not in repr(creds)


def test_a_user_without_a_stored_token_is_exit_3_with_the_fix() -> None:
    with pytest.raises(TokenFileError, match=r"no Google token stored for x@y\.example") as caught:
        oauth_for_user("x@y.example", DictVault(), SecretBox([new_key().encode()]))
    assert caught.value.exit_code == 3
