"""Drafting: turn a decided meeting into the reply the user would have written.

Pure: no disk, network or clock. The only outside things are what the caller hands in: the
`Renderer` (the shell's sandboxed template environment, `calbot.config.templates`) and
`Say` (the message catalogues, `calbot.present.messages`) for the user's private notes.
Every piece of untrusted event text (titles, names, locations) goes to the templates as a
*variable*, so "{{ 7*7 }}" in a title stays "{{ 7*7 }}" and never runs.

A draft template renders to::

    Subject: <subject line>
    <blank line>
    <body>

The variables are built in `calbot.core.draft_context`, the recipients and greetings in
`calbot.core.draft_people`, the text rules in `calbot.core.draft_text`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from calbot.core.draft_context import client_language, draft_context, notes_context
from calbot.core.draft_openings import Openings as Openings  # re-exported (light module)
from calbot.core.draft_people import display_name, recipients
from calbot.core.draft_text import split_rendered, tidy_body
from calbot.core.headers import clean_header_text
from calbot.core.messages import Say, message
from calbot.core.model import Action, Decision, Draft, Meeting
from calbot.core.settings import LANGUAGES, CoreSettings, UserSettings

DRAFT_ACTIONS: tuple[Action, ...] = tuple(a for a in Action if a != Action.NONE)

_NOTES_TEMPLATE_ACTIONS = frozenset({Action.BOUNDARY})


class Renderer(Protocol):
    """Renders a named template with a context; its own failures are the caller's errors."""

    def render(self, name: str, context: Mapping[str, object]) -> str: ...


class TemplateFailed(Exception):
    """The template `name` rendered something that is not a draft; `reason` says what."""

    def __init__(self, name: str, reason: str) -> None:
        self.name, self.reason = name, reason
        super().__init__(f"{name}: {reason}")


def template_name(action: Action | str, lang: str) -> str:
    """The template file for an action in a language, e.g. `reschedule.vi.txt.j2`."""
    value = action.value if isinstance(action, Action) else action
    return f"{value}.{lang}.txt.j2"


def notes_template_name(action: Action | str, lang: str) -> str:
    """The private talking-points template, e.g. `boundary_notes.en.txt.j2`."""
    value = action.value if isinstance(action, Action) else action
    return f"{value}_notes.{lang}.txt.j2"


def all_template_names() -> dict[str, tuple[Action, str, bool]]:
    """Every built-in template name → (action, language, is_notes)."""
    names: dict[str, tuple[Action, str, bool]] = {}
    for lang in LANGUAGES:
        for action in DRAFT_ACTIONS:
            names[template_name(action, lang)] = (action, lang, False)
        for action in _NOTES_TEMPLATE_ACTIONS:
            names[notes_template_name(action, lang)] = (action, lang, True)
    return names


def reasons(decision: Decision, lang: str, say: Say) -> list[str]:
    """The factors that acted (all of them when none did), as one-line texts."""
    acting = [f for f in decision.factors if f.points > 0] or list(decision.factors)
    return [clean_header_text(say(f.detail, lang)) or f.code for f in acting]


def why_line(decision: Decision, lang: str, say: Say) -> str:
    """ "Why: Tue 1 Dec has 6.5 h of meetings, limit 4 h; ... (score 62/100, shorten)"."""
    because = "; ".join(reasons(decision, lang, say)) or "-"
    # The action by its name in the user's language, never the code ("boundary").
    action = message(f"digest.action_{decision.action.value}")
    line = message("notes.why_line", reasons=because, score=decision.score, action=action)
    return say(line, lang)


def private_notes(
    meeting: Meeting, decision: Decision, user: UserSettings, templates: Renderer, say: Say
) -> str:
    lang = user.language if user.language in LANGUAGES else "en"
    # The factors are the reasoning; `decision.why` (which rules did not fit) is for
    # `calbot explain` only.
    text = why_line(decision, lang, say)
    if decision.action in _NOTES_TEMPLATE_ACTIONS:
        why = clean_header_text(say(decision.why, lang)) if decision.why else ""
        ctx = notes_context(meeting, decision, user, lang, reasons(decision, lang, say), why)
        points = tidy_body(templates.render(notes_template_name(decision.action, lang), ctx))
        text += "\n\n" + points.rstrip("\n")
    return text + "\n"


def make_draft(
    meeting: Meeting,
    decision: Decision,
    settings: CoreSettings,
    templates: Renderer,
    say: Say,
    opening: int = 0,
) -> Draft:
    """The reply for `meeting` as decided; `say` gives the private notes' reasons their
    text. Raises TemplateFailed when a template renders no "Subject: ..." + body, which
    loading the templates already ruled out for the sample meetings; the renderer's own
    errors pass through. `opening` picks the opening sentence (`Openings.pick`)."""
    if decision.action not in DRAFT_ACTIONS:
        raise ValueError(f"no draft for action {decision.action.value!r}")
    user = settings.user
    lang = client_language(meeting)
    to, cc = recipients(meeting, user)
    ctx = draft_context(meeting, decision, user, lang, to, opening)
    name = template_name(decision.action, lang)
    rendered = templates.render(name, ctx)
    try:
        subject, body = split_rendered(rendered)
    except ValueError as exc:
        raise TemplateFailed(name, str(exc)) from None
    return Draft(
        language=lang,
        to=tuple(a.email for a in to),
        subject=subject,
        body=body,
        private_notes=private_notes(meeting, decision, user, templates, say),
        cc=tuple(a.email for a in cc),
        to_names=tuple(display_name(meeting, a) for a in to),
    )
