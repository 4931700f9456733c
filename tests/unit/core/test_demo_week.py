import email
import email.policy
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from calbot.core.model import Action
from calbot.present.render import result_doc
from calbot.usecases.demo import demo_calendar, run_demo

BERLIN = ZoneInfo("Europe/Berlin")
ALL = {a.value for a in Action} - {"none"}


@pytest.mark.parametrize("day_offset", range(7))
def test_demo_drafts_every_action_whatever_the_weekday(tmp_path: Path, day_offset: int) -> None:
    now = datetime(2026, 11, 23, 9, 15, tzinfo=BERLIN) + timedelta(days=day_offset)
    run, _ = run_demo(tmp_path / "outbox", now)
    actions = {o.decision.action.value for o in run.result.outcomes if o.draft}
    assert actions == ALL
    languages = {o.draft.language for o in run.result.outcomes if o.draft}
    assert languages == {"en", "vi", "ms"}


def test_demo_json_points_at_real_eml_files(tmp_path: Path) -> None:
    now = datetime(2026, 11, 25, 9, 0, tzinfo=BERLIN)
    run, settings = run_demo(tmp_path / "outbox", now)
    doc = result_doc(run.result, run.outbox_paths, settings.user.language)
    drafts = [m["draft"] for m in doc["meetings"] if m["draft"]]
    assert len(drafts) == 6
    for d in drafts:
        msg = email.message_from_bytes(
            Path(d["outbox_path"]).read_bytes(), policy=email.policy.default
        )
        assert msg["Subject"] == d["subject"]
        assert [a.addr_spec for a in msg["To"].addresses] == d["to"]
    # the key client's meetings are protected; one colleague meeting is delegated
    key = [m for m in doc["meetings"] if m["client"] == "Acme Corp"]
    assert key and all(m["action"] == "none" for m in key)


def test_demo_rerun_rewrites_nothing(tmp_path: Path) -> None:
    now = datetime(2026, 11, 25, 9, 0, tzinfo=BERLIN)
    run_demo(tmp_path / "outbox", now)
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "outbox").iterdir()}
    run, _ = run_demo(tmp_path / "outbox", now)
    assert run.result.drafted == 0
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "outbox").iterdir()} == before


def test_demo_calendar_has_no_placeholders_left() -> None:
    text = demo_calendar(datetime(2026, 11, 25).date())
    assert "@" not in "".join(line for line in text.splitlines() if line.startswith("DT"))
