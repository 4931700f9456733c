"""Drafts rendered as RFC 5322 bytes, parsed back with the standard `email` package."""

from __future__ import annotations

import email
import email.policy
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest

from calbot.adapters.mail import build_message, message_id_for
from calbot.core.headers import clean_header_text
from calbot.core.model import Draft

HANOI = timezone(timedelta(hours=7))
DATE = datetime(2025, 3, 4, 8, 15, tzinfo=HANOI)
MID = "<calbot.0123456789abcdef0123456789abcdef@example.com>"


def render(draft: Draft, *, from_name: str = "Alex Doe", message_id: str = MID) -> bytes:
    return build_message(
        draft, from_addr="me@example.com", from_name=from_name, message_id=message_id, date=DATE
    )


def parse(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def body_of(msg: EmailMessage) -> str:
    """The decoded body with the message's CRLF line endings back to Python's \\n."""
    content = msg.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def draft(**kw: object) -> Draft:
    fields: dict[str, object] = {
        "language": "en",
        "to": ("minh@acme.example",),
        "subject": "Our Tuesday call",
        "body": "Hello Minh,\n\nCould we move it?\n\nAlex\n",
    }
    fields.update(kw)
    return Draft(**fields)  # type: ignore[arg-type]


def test_headers_round_trip() -> None:
    msg = parse(render(draft(to_names=("Minh Nguyen",), cc=("lan@acme.example",))))
    assert msg["From"].addresses[0].display_name == "Alex Doe"
    assert msg["From"].addresses[0].addr_spec == "me@example.com"
    (to,) = msg["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Minh Nguyen", "minh@acme.example")
    assert [a.addr_spec for a in msg["Cc"].addresses] == ["lan@acme.example"]
    assert msg["Subject"] == "Our Tuesday call"
    assert parsedate_to_datetime(msg["Date"]) == DATE
    assert msg["Date"].endswith("+0700")
    assert msg["Message-ID"] == MID
    assert msg["X-Calbot"] == "draft"
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"


def test_minimal_headers_and_crlf() -> None:
    data = render(draft())
    msg = parse(data)
    assert "Cc" not in msg
    assert "Bcc" not in msg
    assert sorted(msg.keys()) == sorted(
        [
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "X-Calbot",
            "X-Calbot-Content",
            "X-Calbot-Id",
            "Content-Type",
            "Content-Transfer-Encoding",
            "MIME-Version",
        ]
    )
    assert b"\r\n" in data
    assert b"\n" not in data.replace(b"\r\n", b"")  # every line ends CRLF


def test_to_names_are_optional_and_positional() -> None:
    msg = parse(render(draft(to=("a@x.example", "b@x.example"), to_names=("Anh A",))))
    addresses = msg["To"].addresses
    assert [(a.display_name, a.addr_spec) for a in addresses] == [
        ("Anh A", "a@x.example"),
        ("", "b@x.example"),
    ]


def test_non_ascii_subject_and_names_round_trip() -> None:
    subject = "Dời lịch họp — thứ Ba?"
    data = render(
        draft(subject=subject, to_names=("Nguyễn Văn Minh",)), from_name="Trần Thị Lan 🌸"
    )
    header_block = data.split(b"\r\n\r\n", 1)[0]
    header_block.decode("ascii")  # RFC 2047: headers stay 7-bit
    msg = parse(data)
    assert msg["Subject"] == subject
    assert msg["To"].addresses[0].display_name == "Nguyễn Văn Minh"
    assert msg["From"].addresses[0].display_name == "Trần Thị Lan 🌸"


@pytest.mark.parametrize(
    "name", ['Doe, John "JD"', "O'Brien (Acme)", "Lee; Kim <boss>", "Puan Siti, Ph.D."]
)
def test_display_names_with_specials_are_quoted(name: str) -> None:
    msg = parse(render(draft(to_names=(name,))))
    (to,) = msg["To"].addresses
    assert to.display_name == name
    assert to.addr_spec == "minh@acme.example"


@pytest.mark.parametrize(
    "body",
    [
        "Chào anh Minh,\n\nEm xin phép dời cuộc họp sang thứ Năm được không ạ?\n",
        "Selamat pagi Tuan Ahmad,\n\nBolehkah kita tukar mesyuarat ini kepada e-mel?\n",
        "Thanks! 🙏🏽 See you 👋\n",
        "مرحبا أحمد،\nهل يمكننا تأجيل الاجتماع؟\n",
        "mixed: שלום and English ‮reversed‬ text\n",
    ],
)
def test_body_round_trips_utf8(body: str) -> None:
    msg = parse(render(draft(body=body)))
    assert body_of(msg) == body


def test_header_injection_is_impossible() -> None:
    evil = draft(
        subject="Hi\r\nBcc: evil@x.com",
        to_names=("Minh\nBcc: evil2@x.com",),
        cc=("lan@acme.example",),
    )
    data = render(evil, from_name="Alex\r\nTo: victim@x.com\x00\x0b")
    msg = parse(data)
    assert "Bcc" not in msg
    assert len(msg.get_all("To") or []) == 1
    assert len(msg.get_all("From") or []) == 1
    assert [a.addr_spec for a in msg["To"].addresses] == ["minh@acme.example"]
    assert [a.addr_spec for a in msg["From"].addresses] == ["me@example.com"]
    assert msg["Subject"] == "Hi Bcc: evil@x.com"
    assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]
    assert msg["To"].addresses[0].display_name == "Minh Bcc: evil2@x.com"
    # no header line of the raw message starts with Bcc (folded lines start with a space)
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        assert not line.lower().startswith(b"bcc")


@pytest.mark.parametrize("sep", ["\u2028", "\u2029", "\x85", "\x1b", "\t"])
def test_header_text_collapses_breaking_characters(sep: str) -> None:
    assert clean_header_text(f"a{sep}b  {sep} c ", limit=None) == "a b c"


@pytest.mark.parametrize("bad", ["evil@x.com\r\nBcc: y@z.com", "not an address", ""])
def test_bad_addresses_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="address"):
        render(draft(to=(bad,)))


def test_bad_message_id_and_naive_date_are_refused() -> None:
    with pytest.raises(ValueError, match="Message-ID"):
        render(draft(), message_id="<x@y>\r\nBcc: e@x.com")
    with pytest.raises(ValueError, match="Message-ID"):
        render(draft(), message_id="no-brackets@example.com")
    with pytest.raises(ValueError, match="timezone"):
        build_message(
            draft(),
            from_addr="me@example.com",
            from_name="",
            message_id=MID,
            date=datetime(2025, 1, 1),
        )


def test_one_megabyte_body() -> None:
    line = "Dòng thứ {i}: lịch họp quá dày, xin dời sang tuần sau. 🙏\n"
    body = "".join(line.format(i=i) for i in range(20_000))
    body += "x" * 5000 + "\n"  # one very long line: must be wrapped by the encoding
    assert len(body.encode()) > 1_000_000
    data = render(draft(body=body))
    assert max(len(raw) for raw in data.split(b"\r\n")) <= 78  # RFC 5322 line limits
    assert body_of(parse(data)) == body


def test_message_id_for_is_deterministic_and_per_action() -> None:
    a = message_id_for("primary/evt1", "reschedule", "example.com")
    assert a == message_id_for("primary/evt1", "reschedule", "example.com")
    assert a != message_id_for("primary/evt1", "shorten", "example.com")
    assert a != message_id_for("primary/evt2", "reschedule", "example.com")
    assert a.startswith("<calbot.") and a.endswith("@example.com>")
    digest = a[len("<calbot.") : -len("@example.com>")]
    assert len(digest) == 32 and all(c in "0123456789abcdef" for c in digest)
    # known value: sha256("primary/evt1|reschedule")
    assert digest == hashlib.sha256(b"primary/evt1|reschedule").hexdigest()[:32]
    assert parse(render(draft(), message_id=a))["Message-ID"] == a


def test_message_id_domain_is_validated() -> None:
    with pytest.raises(ValueError):
        message_id_for("k", "email", "example.com>\r\nBcc: x@y")


def test_content_hash_tells_untouched_from_edited() -> None:
    from calbot.adapters.mail import draft_hash, message_hashes

    draft = Draft(
        "vi", ("Minh@Acme.example",), "Dời lịch — thứ Ba?", "Chào anh Minh,\n\nNội dung.\n"
    )
    data = build_message(
        draft,
        from_addr="me@studio.example",
        from_name="Me",
        message_id="<calbot.x@studio.example>",
        date=datetime(2026, 12, 1, 9, tzinfo=UTC),
    )
    now, written = message_hashes(data)
    assert now == written == draft_hash(draft)
    edited = data.replace(b"N=E1=BB=99i dung", b"Something else")
    assert edited != data
    now, written = message_hashes(edited)
    assert written == draft_hash(draft) and now != written


def test_header_text_is_cut_only_with_a_limit() -> None:
    long = "x" * 300 + " =?utf-8?q?=0D=0ABcc:_y@z?="
    assert clean_header_text(long, limit=None) == "x" * 300 + " =\u200b?utf-8?q?=0D=0ABcc:_y@z?="
    assert clean_header_text(long) == "x" * 199 + "…"
    assert clean_header_text("ab " + "c" * 10, limit=4) == "ab…"
