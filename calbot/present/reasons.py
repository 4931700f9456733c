"""A decision's reasons as the user reads them, in their language: the one sentence a
calendar note and the digest show, and the list a review event shows."""

from __future__ import annotations

from calbot.core.messages import Say
from calbot.core.model import Decision
from calbot.present.messages import say


def why_text(decision: Decision, lang: str, words: Say = say) -> str:
    """Why this action (which rules did not fit), "" when the decision does not say.
    `words`: what turns the message into text (`say`, or a `remembering` one)."""
    return words(decision.why, lang) if decision.why else ""


def main_reason(decision: Decision, lang: str) -> str:
    """The one sentence that says why: the strongest factor's, else the decision's own."""
    if decision.factors:
        return say(max(decision.factors, key=lambda f: f.points).detail, lang)
    return why_text(decision, lang)


def acting_reasons(decision: Decision, lang: str) -> tuple[str, ...]:
    """The factors worth points, strongest first; else the decision's own why (if any)."""
    factors = sorted((f for f in decision.factors if f.points > 0), key=lambda f: -f.points)
    if factors:
        return tuple(say(f.detail, lang) for f in factors)
    why = why_text(decision, lang)
    return (why,) if why else ()
