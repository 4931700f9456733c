"""Whom a draft goes to and how it greets them: recipients, forms of address, names."""

from __future__ import annotations

import re
import unicodedata

from calbot.core.draft_text import short_text
from calbot.core.headers import clean_header_text
from calbot.core.model import Attendee, Client, Contact, Meeting, Response
from calbot.core.settings import UserSettings

# Forms of address that only make sense in Vietnamese (kinship pronouns).
_VI_TITLES = frozenset({"anh", "chị", "em", "ông", "bà", "cô", "chú", "bác", "thầy"})
# English titles mapped to their Malay equivalents.
_EN_TO_MS_TITLE = {"mr": "Tuan", "mrs": "Puan", "ms": "Puan", "miss": "Cik", "dr": "Dr"}


def _is_user(attendee: Attendee, user: UserSettings) -> bool:
    return attendee.is_self or attendee.email.lower() == user.email.lower()


def recipients(meeting: Meeting, user: UserSettings) -> tuple[list[Attendee], list[Attendee]]:
    """(to, cc). Not the organizer: To is the organizer. The organizer: To is the client
    attendees who have not declined. Never the user, never a room. Cc is empty for now."""
    event = meeting.event
    to: list[Attendee] = []
    if not meeting.user_is_organizer:
        organizer = next(
            (
                a
                for a in event.attendees
                if a.organizer and not a.resource and not _is_user(a, user)
            ),
            None,
        )
        if organizer is None and event.organizer and event.organizer.lower() != user.email.lower():
            known = {a.email: a for a in (*meeting.client_attendees, *event.attendees)}
            organizer = known.get(event.organizer.lower()) or Attendee(
                email=event.organizer.lower(), organizer=True
            )
        if organizer is not None:
            to.append(organizer)
    if not to:
        seen: set[str] = set()
        for a in meeting.client_attendees:
            if a.response == Response.DECLINED or a.resource or _is_user(a, user):
                continue
            if a.email in seen:
                continue
            seen.add(a.email)
            to.append(a)
    return to, []


def _contact_for(client: Client, email: str) -> Contact | None:
    found = client.contact(email)
    if found is not None:
        return found
    lowered = email.lower()
    return next((c for c in client.contacts if c.email.lower() == lowered), None)


def _title_for(lang: str, title: str) -> str:
    """The contact's title as usable in `lang`, or "" when it does not fit the language."""
    title = clean_header_text(title)
    if not title:
        return ""
    lowered = title.lower().rstrip(".")
    if lang == "vi":
        return title.lower() if lowered in _VI_TITLES else ""
    if lowered in _VI_TITLES:
        return ""
    if lang == "ms":
        return _EN_TO_MS_TITLE.get(lowered, title)
    return title


def addressee(meeting: Meeting, to: list[Attendee], lang: str) -> tuple[str, str]:
    """(title, name) for the greeting; ("", "") means the neutral polite form."""
    if not to:
        return "", ""
    first = to[0]
    contact = _contact_for(meeting.client, first.email)
    if contact is not None and clean_header_text(contact.name):
        name = short_text(contact.name, 60)
        title = _title_for(lang, contact.title)
        if title:
            return title, name
        if lang == "en":
            return "", name
        return "", ""
    if lang == "en":
        # Vietnamese and Malay need the given-name order and a form of address that only a
        # configured contact tells; English can use a first name that is plain to see.
        return "", first_name(first.name)
    return "", ""


# Words that show a display name belongs to a team or a mailbox, not a person.
_NOT_A_PERSON = frozenset(
    [
        "team",
        "office",
        "support",
        "info",
        "sales",
        "admin",
        "billing",
        "accounts",
        "account",
        "hello",
        "contact",
        "help",
        "noreply",
        "no-reply",
        "booking",
        "bookings",
        "calendar",
        "reception",
        "service",
        "services",
        "group",
        "hr",
        "marketing",
        "finance",
        "media",
        "studio",
        "agency",
        "company",
        "inc",
        "ltd",
        "llc",
        "gmbh",
        "the",
    ]
)
_HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam"})
# "Chris from Cobalt Media", "Chris at Cobalt", "Chris | Cobalt", "Chris (Cobalt)".
_AFFILIATION = re.compile(r"\s+(?:from|at|of|@)\s+|\s*[|(\[/–—]\s*|\s+-\s+", re.I)
_NAME_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]))*")


def first_name(display_name: str) -> str:
    """The first name a display name makes clear ("Chris Lee", "Chris from Cobalt" →
    "Chris"), else "" (then the draft uses the neutral greeting): a name with a comma
    ("Lee, Chris"), an e-mail address, a team or a lone honorific is not clear."""
    name = clean_header_text(display_name)
    if not name or "@" in name or "," in name:
        return ""
    person = _AFFILIATION.split(name, maxsplit=1)[0].strip()
    words = person.split()
    if not 1 <= len(words) <= 3 or any(not _NAME_WORD.fullmatch(w) for w in words):
        return ""
    if any(w.lower() in _NOT_A_PERSON for w in words):
        return ""
    first = _given_name(words)
    if first.lower().rstrip(".") in _HONORIFICS or len(first) < 2:
        return ""
    if not first[0].isupper() or (first.isupper() and len(first) > 1):
        return ""
    return short_text(first, 60)


# Family names that open a Vietnamese name as written ("Nguyễn Văn Minh": Minh is the given
# name), folded (`_folded`). Only those that are almost never a given name: "Mai", "Hà" or
# "Lâm" open a name either way.
# fmt: off
_VI_FAMILY = frozenset({
    "nguyen", "tran", "le", "pham", "hoang", "huynh", "phan", "vu", "vo", "dang", "bui",
    "do", "ho", "ngo", "duong", "ly", "dinh", "trinh", "doan", "truong", "luong",
})
# Chinese family names as Malaysia and Singapore write them first ("Tan Wei Ming").
_ZH_FAMILY = frozenset({
    "tan", "lim", "lee", "ng", "wong", "ong", "goh", "chan", "chua", "teo", "koh", "chong",
    "lau", "yeo", "low", "chin", "leong", "foo", "yap", "cheng", "tay", "liew", "loh", "soh",
    "sim", "quek", "toh", "khoo", "chew", "heng", "seah", "chia", "kwok",
})
# fmt: on


def _folded(word: str) -> str:
    """Lower case without diacritics: "Nguyễn" and "Nguyen" alike."""
    plain = unicodedata.normalize("NFD", word.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in plain if not unicodedata.combining(c)).lower()


def _given_name(words: list[str]) -> str:
    """The word an English greeting uses, "" when the name's order is unclear. Western
    order: the first word. A Vietnamese name opening with its family name: the last word
    ("Nguyễn Văn Minh" → "Minh"), unless two words could be either order ("Ly Nguyen").
    "Tan Wei Ming": the family name first, and which words to use is unclear."""
    head = _folded(words[0])
    if head in _VI_FAMILY:
        if len(words) == 1 or (len(words) == 2 and _folded(words[1]) in _VI_FAMILY):
            return ""
        return words[-1]
    if head in _ZH_FAMILY and len(words) == 3 and all(len(w) <= 5 for w in words[1:]):
        return ""
    return words[0]


def colleague_name(meeting: Meeting, email: str) -> str:
    for person in meeting.colleagues:
        if person.email.lower() == email.lower() and clean_header_text(person.name):
            return short_text(person.name, 60)
    local = email.partition("@")[0]
    parts = [p for p in re.split(r"[._\-+]+", local) if p]
    return short_text(" ".join(p[:1].upper() + p[1:] for p in parts), 60)


def display_name(meeting: Meeting, attendee: Attendee) -> str:
    contact = _contact_for(meeting.client, attendee.email)
    if contact is not None and clean_header_text(contact.name):
        return clean_header_text(contact.name)
    return clean_header_text(attendee.name)
