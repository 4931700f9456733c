"""A decision's reasons as the user reads them: the strongest factor for a note and the
digest, the acting factors (strongest first) for a review event, the why otherwise."""

from __future__ import annotations

from calbot.core.messages import message
from calbot.core.model import Action, Decision, Factor
from calbot.present.reasons import acting_reasons, main_reason, why_text

LONG = Factor("long_meeting", 15, message("factor.long_meeting", minutes=120, limit=60))
CHATTY = Factor("chatty", 20, message("factor.chatty", client="Acme"))
NO_AGENDA = Factor("no_agenda", 0, message("factor.no_agenda"))
WHY = message("why.below_act_at", score=35, act_at=50)


def test_acting_reasons_are_the_factors_worth_points_strongest_first() -> None:
    d = Decision(Action.SHORTEN, 35, (LONG, NO_AGENDA, CHATTY), why=WHY)
    assert acting_reasons(d, "en") == (
        "meetings with Acme tend to run over with small talk",
        "120 min long, over 60 min",
    )
    assert acting_reasons(d, "vi")[1] == "dài 120 phút, quá 60 phút"


def test_without_acting_factors_the_why_is_the_reason() -> None:
    d = Decision(Action.NONE, 0, (NO_AGENDA,), why=WHY)
    assert acting_reasons(d, "en") == ("score 35 is below act_at 50",)
    assert acting_reasons(Decision(Action.NONE, 0, ()), "en") == ()


def test_main_reason_is_the_strongest_factor_else_the_why() -> None:
    assert main_reason(Decision(Action.SHORTEN, 35, (LONG, CHATTY), why=WHY), "ms") == (
        "mesyuarat dengan Acme selalu berlanjutan dengan perbualan kosong"
    )
    assert main_reason(Decision(Action.NONE, 0, (), why=WHY), "ms") == (
        "skor 35 di bawah act_at 50"
    )
    assert main_reason(Decision(Action.NONE, 0, ()), "en") == ""
    assert why_text(Decision(Action.NONE, 0, ()), "en") == ""
