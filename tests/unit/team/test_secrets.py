"""Per-user tokens encrypted at rest: the key from $CALBOT_SECRET_KEY (wins) or a 0600 file,
rotation, and no key or token in any message or repr."""

from __future__ import annotations

from pathlib import Path

import pytest

from calbot.errors import ConfigError
from calbot.team.secrets import SecretBox, TokenUnreadable, load_secret_box, new_key

TOKEN = {"token": "ya29.secret-access", "refresh_token": "1//secret-refresh", "client_id": "c"}


def key_file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "calbot.key"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_round_trip_and_the_ciphertext_hides_the_token(tmp_path: Path) -> None:
    box = load_secret_box(str(key_file(tmp_path, new_key())), {}, config_path="team.toml")
    blob = box.encrypt(TOKEN)
    assert b"secret" not in blob
    assert box.decrypt(blob, who="ana@x.example") == TOKEN


def test_the_environment_key_wins_over_the_file(tmp_path: Path) -> None:
    env_key, file_key = new_key(), new_key()
    path = key_file(tmp_path, file_key)
    from_env = load_secret_box(str(path), {"CALBOT_SECRET_KEY": env_key}, config_path="t")
    blob = from_env.encrypt(TOKEN)
    assert SecretBox([env_key.encode()]).decrypt(blob, who="a") == TOKEN
    with pytest.raises(TokenUnreadable):
        SecretBox([file_key.encode()]).decrypt(blob, who="a")


def test_a_wrong_key_is_one_line_naming_the_user_not_the_blob(tmp_path: Path) -> None:
    blob = SecretBox([new_key().encode()]).encrypt(TOKEN)
    with pytest.raises(TokenUnreadable) as caught:
        SecretBox([new_key().encode()]).decrypt(blob, who="ana@x.example")
    message = str(caught.value)
    assert "ana@x.example" in message and blob.decode() not in message
    assert caught.value.exit_code == 3


def test_rotation_old_tokens_still_open_new_ones_use_the_first_key(tmp_path: Path) -> None:
    old, new = new_key(), new_key()
    blob = SecretBox([old.encode()]).encrypt(TOKEN)
    rotated = load_secret_box(str(key_file(tmp_path, f"{new}\n{old}\n")), {}, config_path="t")
    assert rotated.decrypt(blob, who="a") == TOKEN
    assert SecretBox([new.encode()]).decrypt(rotated.encrypt(TOKEN), who="a") == TOKEN


def test_a_key_file_open_to_others_is_refused(tmp_path: Path) -> None:
    path = key_file(tmp_path, new_key(), mode=0o644)
    with pytest.raises(ConfigError, match=r"team.toml: team.secret_key_file: .*chmod 600"):
        load_secret_box(str(path), {}, config_path="team.toml")


@pytest.mark.parametrize("text", ["not-a-key", "", "\n\n"])
def test_a_bad_key_is_exit_2_and_never_echoed(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_secret_box(str(key_file(tmp_path, text)), {}, config_path="team.toml")
    assert caught.value.exit_code == 2
    assert "not-a-key" not in str(caught.value)
    with pytest.raises(ConfigError, match=r"\$CALBOT_SECRET_KEY"):
        load_secret_box("", {"CALBOT_SECRET_KEY": "not-a-key"}, config_path="team.toml")


def test_missing_key_file_and_no_key_at_all(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no key file at"):
        load_secret_box(str(tmp_path / "absent"), {}, config_path="team.toml")
    with pytest.raises(ConfigError, match="CALBOT_SECRET_KEY"):
        load_secret_box("", {}, config_path="team.toml")


def test_no_repr_shows_a_key() -> None:
    key = new_key()
    assert key not in repr(SecretBox([key.encode()]))
