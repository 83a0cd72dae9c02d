"""The daily report (issue 16 items 1, 5, 6): workflow figures, and a chart labelled in Chinese."""

from __future__ import annotations

import warnings
from datetime import date, datetime, timedelta
from importlib.metadata import requires
from pathlib import Path

from sqlalchemy import select

from bot import report_chart
from bot.wording import report as report_words
from storage import reports, workorders
from storage.db import unit_of_work
from storage.feedback import open_complaint
from storage.owners import Owner
from storage.reports import CommunityReport, DailyReport, LineFigures
from storage.workorders import WorkOrderKind
from tests.broadcasts.kit import add_owner, make_place
from tests.conftest import Hub
from tests.scheduler.kit import TZ

DAY = date(2025, 6, 10)  # a day no other test writes to: the figures are exact


async def test_the_report_counts_work_orders_urgent_ones_missed_deadlines_and_complaints(hub: Hub) -> None:
    place = await make_place(hub)
    openid = await add_owner(hub, place, "rep")
    morning = datetime(DAY.year, DAY.month, DAY.day, 10, 0, tzinfo=TZ)
    async with unit_of_work(hub.runtime.sessions) as session:
        owner = await session.scalar(select(Owner).where(Owner.openid == openid))
        assert owner is not None
        late = await workorders.create(session=session, owner_id=owner.id, community_id=place.community_id, text="灯坏了")
        quick = await workorders.create(session=session, owner_id=owner.id, community_id=place.community_id,
                                        text="电梯困人", kind=WorkOrderKind.URGENT)
        late.created_at = morning  # never acknowledged: its 10:30 deadline is missed
        quick.created_at, quick.acknowledged_at = morning, morning + timedelta(minutes=2)
        quick.status, quick.done_at = "done", morning + timedelta(hours=1)
        complaint = await open_complaint(session=session, owner_id=owner.id, text="保洁不到位")
        complaint.created_at = morning
    async with hub.runtime.sessions() as session:
        built = await reports.build(session=session, day=DAY, tz=TZ)
    text = report_words.render_text(built)
    assert "物业工单：新增 2（紧急 1），完成 1，超时 1（未及时受理 1，未按时完成 0）⚠️" in text
    # The complaint's 30-minute acknowledgement deadline fell that day and was missed.
    assert "投诉：新增 1，结案 0，超时 1 ⚠️" in text


def test_the_chart_is_labelled_in_chinese_with_the_font_shipped_by_a_package(tmp_path: Path) -> None:
    assert any(r.startswith("mplfonts") for r in requires("butler-hub") or [])  # a pip dependency, not apt
    font = report_chart._cjk_font()
    assert font == "Noto Sans CJK SC"
    report = DailyReport(
        day=DAY, channels_used=[], surveys_by_channel={}, broadcast_sent=0, broadcast_owners=0,
        communities=[CommunityReport(1, "翠苑", lines={"家政管家·钟点工": LineFigures(3, 2, 30000, 6000)}),
                     CommunityReport(2, "山水嘉园", lines={"养老管家·陪聊": LineFigures(1, 1, 5000, 500)})],
    )
    with warnings.catch_warnings():
        # matplotlib warns "Glyph … missing from font(s)" for every character it cannot draw.
        warnings.simplefilter("error")
        path = report_chart.render_chart(report, tmp_path / "chart.png")
    assert path.stat().st_size > 10_000
