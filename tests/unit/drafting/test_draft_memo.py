"""The draft memo: a rescan takes a draft from it only when every input of the draft is
the same, and what it takes equals what rendering would give."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from calbot.config.settings import Settings
from calbot.config.template_files import BUILTIN_DIR, TemplateSource
from calbot.config.templates import load_templates
from calbot.core.messages import Hours, message
from calbot.core.model import (
    Action,
    Attendee,
    Client,
    Decision,
    Event,
    Factor,
    Meeting,
    Response,
    Tier,
)
from calbot.core.settings import UserSettings
from calbot.errors import ConfigError
from calbot.present.messages import say
from calbot.usecases.draft_memo import DraftMemo, Unmemoizable, canonical, open_memo

USER = UserSettings(
    email="alex@studio.example", name="Alex Doe", timezone="Europe/Berlin", language="en"
)
START = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)


def meeting() -> Meeting:
    me = Attendee(USER.email, "Alex Doe", Response.ACCEPTED, is_self=True)
    minh = Attendee("minh@acme.example", "Minh Nguyen", Response.ACCEPTED, organizer=True)
    lan = Attendee("lan@acme.example", "Lan Pham", Response.ACCEPTED)
    event = Event(
        id="ev1",
        calendar_id="primary",
        ical_uid="ev1@acme",
        start=START,
        end=START + timedelta(hours=2),
        summary="Acme roadmap review",
        organizer=minh.email,
        attendees=(me, minh, lan),
    )
    client = Client(name="Acme", domains=("acme.example",), tier=Tier.STANDARD, language="en")
    return Meeting(event, client, (minh, lan), (), False, False)


def decision(action: Action) -> Decision:
    day = message("factor.day_load", day=date(2026, 12, 1), hours=Hours(390), limit=Hours(240))
    return Decision(action, 64, (Factor("day_load", 30, day),), None)


def settings(user: UserSettings = USER) -> Settings:
    return Settings(user=user)


def test_a_memo_hit_is_the_draft_rendering_gives(tmp_path: Path) -> None:
    templates = load_templates()
    m, d = meeting(), decision(Action.RESCHEDULE)
    rendered = templates.draft(m, d, settings(), say, 1)
    path = tmp_path / "memo.json"
    memo = DraftMemo(path, "digest", settings())
    key = memo.key(m, d, 1)
    assert key is not None and memo.get(key) is None
    memo.put(key, rendered)
    memo.save()
    later = DraftMemo(path, "digest", settings())  # a later scan's
    assert later.key(m, d, 1) == key
    assert later.get(key) == rendered
    assert path.stat().st_mode & 0o777 == 0o600  # draft text: the user's alone


def test_any_changed_input_is_another_key(tmp_path: Path) -> None:
    m, d = meeting(), decision(Action.RESCHEDULE)
    memo = DraftMemo(tmp_path / "memo.json", "digest", settings())
    key = memo.key(m, d, 0)
    event = m.event
    moved = dataclasses.replace(event, start=event.start + timedelta(minutes=1))
    berlin = dataclasses.replace(event, start=event.start.astimezone(ZoneInfo("Europe/Berlin")))
    lan = Attendee("lan@acme.example", "Lan Pham", Response.DECLINED)
    declined = dataclasses.replace(event, attendees=(*event.attendees[:2], lan))
    others = [
        memo.key(dataclasses.replace(m, event=dataclasses.replace(event, summary="x")), d, 0),
        memo.key(dataclasses.replace(m, event=moved), d, 0),
        memo.key(dataclasses.replace(m, event=berlin), d, 0),  # same moment, other zone
        memo.key(dataclasses.replace(m, event=declined), d, 0),
        memo.key(m, decision(Action.SHORTEN), 0),
        memo.key(m, dataclasses.replace(d, score=d.score + 1), 0),
        memo.key(m, d, 1),
        DraftMemo(tmp_path / "memo.json", "other code", settings()).key(m, d, 0),
        DraftMemo(
            tmp_path / "memo.json", "digest", settings(dataclasses.replace(USER, name="Al"))
        ).key(m, d, 0),
    ]
    assert key is not None
    assert len({key, *others}) == len(others) + 1


def test_equal_inputs_are_one_key_whichever_objects_they_share(tmp_path: Path) -> None:
    # a first scan's events come from Google's pages, a rescan's from the converted-window
    # file, where one string may stand for two equal fields: still the same draft
    m, d = meeting(), decision(Action.RESCHEDULE)
    shared = m.event.attendees[1].email
    assert m.event.organizer is shared
    apart = dataclasses.replace(m.event, organizer="".join(list(shared)))
    assert apart.organizer == shared and apart.organizer is not shared
    memo = DraftMemo(tmp_path / "memo.json", "digest", settings())
    key = memo.key(m, d, 0)
    assert key is not None and memo.key(dataclasses.replace(m, event=apart), d, 0) == key


@pytest.mark.parametrize("lang", ["en", "vi", "ms"])
@pytest.mark.parametrize("action", [a for a in Action if a is not Action.NONE])
def test_calbots_own_note_on_the_event_is_not_an_input(
    tmp_path: Path, action: Action, lang: str
) -> None:
    # the note is written after the draft, from it: a rescan that sees it takes the same
    # draft, which is right only because no template reads it
    m, d = meeting(), decision(action)
    m = dataclasses.replace(m, client=dataclasses.replace(m.client, language=lang))
    noted = dataclasses.replace(
        m, event=dataclasses.replace(m.event, notes=(("calbot_action", "x"),), color_id="6")
    )
    memo = DraftMemo(tmp_path / "memo.json", "digest", settings())
    assert memo.key(noted, d, 0) == memo.key(m, d, 0) is not None
    templates = load_templates()
    assert templates.draft(noted, d, settings(), say, 0) == templates.draft(
        m, d, settings(), say, 0
    )


def test_a_repeated_local_hour_is_two_keys(tmp_path: Path) -> None:
    # 02:30 on the night clocks go back happens twice in Berlin: only `fold` tells the
    # two apart, and their drafts name different times in UTC
    berlin = ZoneInfo("Europe/Berlin")
    first = datetime(2026, 10, 25, 2, 30, tzinfo=berlin)
    second = first.replace(fold=1)
    assert first.utcoffset() != second.utcoffset()
    m, d = meeting(), decision(Action.RESCHEDULE)
    memo = DraftMemo(tmp_path / "memo.json", "digest", settings())
    keys = {
        memo.key(
            dataclasses.replace(
                m, event=dataclasses.replace(m.event, start=at, end=at + timedelta(hours=1))
            ),
            d,
            0,
        )
        for at in (first, second)
    }
    assert len(keys) == 2 and None not in keys


def test_a_type_is_part_of_its_value() -> None:
    class Pair(tuple[int, int]):
        pass

    class Other(tuple[int, int]):
        pass

    assert canonical(Pair((1, 2))) != canonical((1, 2)) != canonical([1, 2])
    assert canonical(Pair((1, 2))) != canonical(Other((1, 2)))
    assert canonical((1, 2)) == canonical((1, 2))


def test_sets_are_canonical_whatever_their_order() -> None:
    words = [f"w{i}" for i in range(50)]
    a, b = frozenset(words), frozenset(reversed(words))
    assert canonical(a) == canonical(b)
    assert canonical(a) != canonical(frozenset(words[1:]))


def test_an_unknown_value_is_never_memoized(tmp_path: Path) -> None:
    m = meeting()
    odd = dataclasses.replace(m.event, summary=type("Text", (str,), {})("Acme"))
    memo = DraftMemo(tmp_path / "memo.json", "digest", settings())
    assert memo.key(dataclasses.replace(m, event=odd), decision(Action.RESCHEDULE), 0) is None
    with pytest.raises(Unmemoizable):
        canonical(object())


def test_a_damaged_memo_file_is_a_miss(tmp_path: Path) -> None:
    m, d = meeting(), decision(Action.RESCHEDULE)
    path = tmp_path / "memo.json"
    key = DraftMemo(path, "digest", settings()).key(m, d, 0)
    for text in ("not json", "[]", f'{{"{key}": ["en", "to", "s", "b", "", [], []]}}'):
        path.write_text(text, encoding="utf-8")
        memo = DraftMemo(path, "digest", settings())
        assert key is not None and memo.get(key) is None


def test_no_memo_without_a_cache_dir_or_digest(tmp_path: Path) -> None:
    assert open_memo("", settings(), "x.toml") is None
    assert open_memo("digest", settings(), "x.toml") is not None


def test_template_source_checks_changed_files_before_anything_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked once (the marker), a later source of the same files defers loading; a
    changed file is checked when the source is built, before any network call."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "mine"
    folder.mkdir()
    name = "call.en.txt.j2"
    (folder / name).write_text((BUILTIN_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    first = TemplateSource(str(folder))
    assert first.digest
    again = TemplateSource(str(folder))
    assert again.digest == first.digest
    assert again._loaded is None  # checked before: nothing loaded until a draft is rendered
    (folder / name).write_text("{{ nonsense_variable }}", encoding="utf-8")
    os.utime(folder / name, ns=(3, 3))
    with pytest.raises(ConfigError, match="nonsense_variable"):
        TemplateSource(str(folder))
