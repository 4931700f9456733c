from datetime import date

import pytest
from builders import ME, block, client, event, person, settings
from hypothesis import given
from hypothesis import strategies as st

from calbot.core.classify import classify
from calbot.core.model import Tier
from calbot.core.scoring import _BOILERPLATE, _URL, has_agenda, in_person, score
from calbot.core.workload import measure
from calbot.present.messages import say


def scored(target, others=(), s=None, week_count=1):
    s = s or settings()
    m = classify(target, s)
    assert m is not None
    w = measure([target, *others], s.user, date(2026, 11, 23), date(2026, 12, 13))
    return score(m, w, week_count, s)


def codes(result):
    return {f.code for f in result.factors}


def busy_tuesday():
    """Tue 1 Dec: five one-hour meetings = over both the 4 h and the 4-meeting limit."""
    return [event(f"2026-12-01 {h:02d}:00", 60) for h in (9, 10, 11, 13, 14)]


def test_light_video_call_with_agenda_scores_far_below_act_at():
    result = scored(event("2026-12-01 10:00", 30))
    assert result.total == 0 and result.factors == ()


def test_standard_client_on_a_day_over_both_limits_reaches_act_at():
    day = busy_tuesday()
    result = scored(day[0], day[1:])
    assert {"day_load", "day_count"} <= codes(result)
    assert result.total >= settings().thresholds.act_at


def test_low_tier_90_minute_in_person_meeting_without_agenda_reaches_act_at():
    s = settings(client(tier=Tier.LOW))
    ev = event(
        "2026-12-03 10:00", 90, location="Acme HQ, Hauptstr. 1", video_link="", description=""
    )
    result = scored(ev, s=s)
    assert codes(result) == {"long_meeting", "in_person", "no_agenda", "tier"}
    assert result.total >= s.thresholds.act_at


def test_key_clients_are_protected():
    day = busy_tuesday()
    standard = scored(day[0], day[1:])
    key = scored(day[0], day[1:], s=settings(client(tier=Tier.KEY)))
    assert key.total < settings().thresholds.act_at <= standard.total
    tier = next(f for f in key.factors if f.code == "tier")
    assert tier.points < 0 and "key" in say(tier.detail, "en")


def test_factor_points_add_up_to_the_score():
    day = busy_tuesday()
    for s in (settings(), settings(client(tier=Tier.KEY)), settings(client(tier=Tier.LOW))):
        result = scored(day[0], day[1:], s=s)
        assert sum(f.points for f in result.factors) == result.total


def test_each_factor_fires_on_its_own():
    cases = {
        "week_load": (
            event("2026-12-04 10:00", 30),
            [
                event(f"2026-12-0{d} {h:02d}:00", 60)
                for d in (1, 2, 3)
                for h in (9, 10, 11, 13, 14, 15)
            ],
        ),
        "no_focus_block": (
            event("2026-12-01 10:00", 30),
            [
                block("2026-12-01 09:00", 60),
                block("2026-12-01 11:00", 60),
                block("2026-12-01 13:00", 60),
                block("2026-12-01 15:00", 60),
                block("2026-12-01 16:30", 60),
            ],
        ),
        "long_meeting": (event("2026-12-01 10:00", 75), []),
        "in_person": (event("2026-12-01 10:00", 30, location="Café Central", video_link=""), []),
        "no_agenda": (
            event("2026-12-01 10:00", 30, description="https://zoom.us/j/1 Join Zoom Meeting"),
            [],
        ),
        "outside_hours": (event("2026-12-01 18:00", 30), []),
    }
    for code, (target, others) in cases.items():
        assert code in codes(scored(target, others)), code


def test_repeated_optional_colleague_chatty():
    assert "repeated" in codes(scored(event("2026-12-01 10:00", series_id="s1")))
    assert "repeated" in codes(scored(event("2026-12-01 10:00"), week_count=3))
    assert "repeated" not in codes(scored(event("2026-12-01 10:00"), week_count=2))
    optional = event("2026-12-01 10:00", me=person(ME, is_self=True, optional=True))
    assert "optional_or_colleague" in codes(scored(optional))
    team = event("2026-12-01 10:00", guests=("ana@acme.example", "sam@studio.example"))
    assert "optional_or_colleague" in codes(scored(team))
    assert "chatty" in codes(scored(event("2026-12-01 10:00"), s=settings(client(chatty=True))))


def test_weekend_meeting_is_outside_hours():
    assert "outside_hours" in codes(scored(event("2026-12-05 10:00", 30)))


def test_details_are_human_sentences():
    day = busy_tuesday()
    details = {f.code: say(f.detail, "en") for f in scored(day[0], day[1:]).factors}
    assert details["day_load"] == "Tue 1 Dec has 5 h of meetings, limit 4 h"
    assert details["day_count"] == "Tue 1 Dec has 5 meetings, limit 4"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", False),
        ("https://meet.google.com/abc-defg-hij", False),
        ("Join with Google Meet: https://meet.google.com/x\nLearn more about Meet", False),
        ("Agenda: pricing, timeline", True),
        ("Chương trình: báo giá, tiến độ", True),
        ("abcdefghijk", False),
        ("abc-def ghi jkl", True),
        ("a_b c_d e_f g_h i_j k https://x.example/yz", False),
        ("ZOOM meeting ID 123 passcode 9x 12345678901", True),
        ("Meeting ID 12345678901 passcode", False),
    ],
)
def test_agenda_detection(text, expected):
    assert has_agenda(text) is expected


@given(st.text(alphabet="ab1 _:-~/.wWhtpsJOINjoin\n", max_size=40))
def test_agenda_is_twelve_letters_or_digits_left_after_links_and_boilerplate(text):
    """The count stops at the 12th: the same answer as counting them all."""
    left = _BOILERPLATE.sub(" ", _URL.sub(" ", text))
    assert has_agenda(text) is (sum(map(str.isalnum, left)) >= 12)


def test_in_person_needs_a_place_and_no_video():
    s = settings()

    def m(**kw):
        return classify(event("2026-12-01 10:00", **kw), s)

    assert in_person(m(location="Acme HQ", video_link=""))
    assert not in_person(m(location="Acme HQ"))  # hybrid: there is a link
    assert not in_person(m(location="https://zoom.us/j/1", video_link=""))
    assert not in_person(m(location="Zoom", video_link=""))
    assert not in_person(m(location="", video_link=""))


@pytest.mark.parametrize(
    ("lang", "day_load", "tier"),
    [
        ("en", "Tue 1 Dec has 5 h of meetings, limit 4 h", "key client: protected, ×0.6"),
        (
            "vi",
            "thứ Ba 1/12 có 5 giờ họp, giới hạn 4 giờ",
            "khách hàng chủ chốt: điểm được giảm, nhân hệ số 0.6",
        ),
        (
            "ms",
            "Selasa 1 Dis ada 5 jam mesyuarat, had 4 jam",
            "pelanggan utama: dilindungi, skor didarab 0.6",
        ),
    ],
)
def test_factor_details_are_in_the_users_language(lang, day_load, tier):
    day = busy_tuesday()
    s = settings(client(tier=Tier.KEY), language=lang)
    details = {f.code: say(f.detail, lang) for f in scored(day[0], day[1:], s=s).factors}
    assert details["day_load"] == day_load
    assert details["tier"] == tier
