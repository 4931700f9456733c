"""`build_message` writes plain drafts without the `email` header registry (issue 12): its
bytes must stay exactly what `EmailMessage(policy=SMTP)` writes for the same draft, for
plain text and for anything hostile (non-ASCII, quotes, encoded-word look-alikes, long
lines), which the fast path hands back to the policy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from calbot.adapters.mail import (
    CONTENT_HEADER,
    HOLDS_HEADER,
    ID_HEADER,
    MAIL_POLICY,
    _address,
    build_message,
    draft_hash,
    holds_header,
)
from calbot.core.headers import clean_header_text
from calbot.core.model import Draft, Slot

MID = "<calbot.0123456789abcdef0123456789abcdef@example.com>"
DATE = datetime(2025, 3, 4, 8, 15, tzinfo=timezone(timedelta(hours=7)))


def reference(draft: Draft, from_name: str, holds: tuple[Slot, ...]) -> bytes:
    """The message as the `email` package alone renders it (the code before issue 12)."""
    from email.message import EmailMessage
    from email.utils import format_datetime

    names = draft.to_names
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["From"] = _address("me@example.com", from_name)
    msg["To"] = [_address(a, names[i] if i < len(names) else "") for i, a in enumerate(draft.to)]
    if draft.cc:
        msg["Cc"] = [_address(a) for a in draft.cc]
    msg["Subject"] = clean_header_text(draft.subject, limit=None)
    msg["Date"] = format_datetime(DATE)
    msg["Message-ID"] = MID
    msg["X-Calbot"] = "draft"
    msg[ID_HEADER] = MID
    msg[CONTENT_HEADER] = draft_hash(draft)
    if holds:
        msg[HOLDS_HEADER] = holds_header(holds)
    msg.set_content(draft.body, subtype="plain", charset="utf-8", cte="quoted-printable")
    return msg.as_bytes()


def fast(draft: Draft, from_name: str, holds: tuple[Slot, ...]) -> bytes:
    return build_message(
        draft,
        from_addr="me@example.com",
        from_name=from_name,
        message_id=MID,
        date=DATE,
        holds=holds,
    )


SLOT = Slot(datetime(2025, 3, 5, 9, tzinfo=UTC), datetime(2025, 3, 5, 10, tzinfo=UTC))
PLAIN = Draft(
    "en",
    ("ana@acme.example", "bo@acme.example"),
    "Shorter: Weekly sync on Wed 5 Mar",
    "Hi Ana,\n\nCould we keep it to 45 minutes?\n\nThanks,\nAlex\n",
    to_names=("Ana Tran", ""),
)


def test_a_plain_draft_is_byte_identical() -> None:
    for holds in ((), (SLOT,), (SLOT, SLOT, SLOT)):
        assert fast(PLAIN, "Alex Doe", holds) == reference(PLAIN, "Alex Doe", holds)


HOSTILE = [
    'Ana "the boss" (CEO)',
    "=?utf-8?q?hi?= there",
    "Lịch họp với khách hàng",
    "a" * 120,
    "Re: a, b; c <d> \\ e",
    "  spaced   out  ",
    "tab\there",
    "Dr. Who",
]


def test_hostile_headers_and_bodies_are_byte_identical() -> None:
    for text in HOSTILE:
        draft = Draft(
            "en",
            ("ana@acme.example",),
            text,
            text + "\n" + "x" * 200 + "\r\nend = \u00e9 \n\n",
            cc=("c@acme.example",),
            to_names=(text,),
        )
        assert fast(draft, text, (SLOT,)) == reference(draft, text, (SLOT,)), text


_TEXT = st.text(
    alphabet=st.sampled_from(list(" \t\"'()<>,;:.=?\\@-_abcXYZ019éờ中\n\r")), max_size=90
)


def test_odd_addresses_are_byte_identical() -> None:
    for addr in ("a.b+c@x-y.example", "a..b@x.example", "A_B@X.EXAMPLE", '"q"@x.example'):
        draft = Draft("en", (addr,), "Hi", "Hi\n", cc=(addr,), to_names=("Ana",))
        assert outcome(fast, draft) == outcome(reference, draft), addr


def outcome(build: Callable[[Draft, str, tuple[Slot, ...]], bytes], draft: Draft) -> object:
    try:
        return build(draft, "Alex", ())
    except ValueError:
        return ValueError


@settings(max_examples=300, deadline=None)
@given(subject=_TEXT, name=_TEXT, body=_TEXT, holds=st.integers(0, 3))
def test_any_text_is_byte_identical(subject: str, name: str, body: str, holds: int) -> None:
    draft = Draft("en", ("ana@acme.example",), subject, body, to_names=(name,))
    slots = (SLOT,) * holds
    try:
        expected = reference(draft, name, slots)
    except ValueError:  # a name the header parser refuses: build_message must refuse too
        try:
            fast(draft, name, slots)
        except ValueError:
            return
        raise AssertionError("the fast path accepted what the email package refuses") from None
    assert fast(draft, name, slots) == expected


_WORDS = st.lists(
    st.text(alphabet=st.sampled_from(list("abcXYZ019/,.:-")), min_size=1, max_size=85),
    min_size=1,
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(words=_WORDS, holds=st.integers(0, 3))
def test_long_plain_headers_fold_as_the_policy_folds(words: list[str], holds: int) -> None:
    subject = " ".join(words)
    draft = Draft("en", ("ana@acme.example",), subject, "Hi\n", to_names=("Ana",))
    slots = (SLOT,) * holds
    assert fast(draft, "Alex", slots) == reference(draft, "Alex", slots)


_MIXED = st.lists(
    st.text(alphabet=st.sampled_from(list('abXZ09:?,.-"()—éờ中ß')), min_size=1, max_size=30),
    min_size=1,
    max_size=10,
)


@settings(max_examples=400, deadline=None)
@given(words=_MIXED)
def test_subjects_with_non_ascii_words_are_byte_identical(words: list[str]) -> None:
    subject = " ".join(words)
    draft = Draft("en", ("ana@acme.example",), subject, "Hi\n", to_names=("Ana",))
    assert fast(draft, "Alex", ()) == reference(draft, "Alex", ())


ENGLISH = Draft(
    "en",
    ("ana@acme.example",),
    "Weekly sync — 45 minutes instead of 90 minutes?",
    "Hi\n",
    to_names=("Ana",),
)


class _CountingPolicy:
    """MAIL_POLICY, counting the headers handed to its header registry."""

    def __init__(self) -> None:
        self.parsed: list[str] = []

    def header_store_parse(self, name: str, value: Any) -> tuple[str, str]:
        self.parsed.append(name)
        return MAIL_POLICY.header_store_parse(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        return MAIL_POLICY.fold_binary(name, value)


def test_a_subject_with_a_dash_is_written_without_the_header_registry(monkeypatch) -> None:
    """Every English draft's subject carries "—": the policy's parse and refold of it was
    most of `build_message` (issue 12)."""
    import calbot.adapters.mail as mail

    assert mail._wide_fold_agrees()  # this Python's policy folds as `_fold_wide` does
    expected = reference(ENGLISH, "Alex", (SLOT,))
    counting = _CountingPolicy()
    monkeypatch.setattr(mail, "MAIL_POLICY", counting)
    assert fast(ENGLISH, "Alex", (SLOT,)) == expected
    assert counting.parsed == []
    assert b"Subject: Weekly sync =?utf-8?b?4oCU?= 45 minutes" in expected


def test_a_python_folding_otherwise_gets_the_policy_for_every_such_subject(monkeypatch) -> None:
    import calbot.adapters.mail as mail

    monkeypatch.setattr(mail, "_wide_fold_agrees", lambda: False)
    counting = _CountingPolicy()
    monkeypatch.setattr(mail, "MAIL_POLICY", counting)
    assert fast(ENGLISH, "Alex", ()) == reference(ENGLISH, "Alex", ())
    assert counting.parsed == ["Subject"]
