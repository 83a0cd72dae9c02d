"""Attack 8 (scope): a scoped staff member's `/report` showed company-wide broadcast figures.

An admin's broadcast reaches owners of another community today; the member scoped to a quiet
community reads a report of their own community only: no reach, no channels, no surveys from
elsewhere, while the admin's report counts the sends.
"""

from __future__ import annotations

import re
from datetime import datetime

from storage import staff
from storage.db import unit_of_work
from tests.broadcasts.kit import (
    add_owner,
    latest_broadcast_id,
    make_place,
    say,
    uid,
    wait_broadcast,
)
from tests.conftest import Hub


def _reach(report: str) -> tuple[int, int]:
    m = re.search(r"今日广播触达：(\d+) 条，(\d+) 户", report)
    assert m is not None, report
    return int(m.group(1)), int(m.group(2))


async def test_a_scoped_report_counts_only_the_callers_communities(hub: Hub) -> None:
    busy = await make_place(hub)
    quiet = await make_place(hub)
    for label in ("a", "b"):
        await add_owner(hub, busy, label, window_open=True)
    await add_owner(hub, quiet, "q")
    await say(hub, busy.admin_openid, f"/broadcast 小区={busy.community} | 今晚小区团购")
    await say(hub, busy.admin_openid, "确认")
    async with hub.runtime.sessions() as session:
        admin = await staff.get_by_openid(session=session, openid=busy.admin_openid)
        assert admin is not None
    await wait_broadcast(hub, await latest_broadcast_id(hub, admin.id))

    today = datetime.now(hub.runtime.tz).date()
    admin_report = await say(hub, busy.admin_openid, f"/report {today:%Y-%m-%d}")
    scoped_report = await say(hub, quiet.staff_openid, f"/report {today:%Y-%m-%d}")
    assert _reach(admin_report)[0] >= 2
    assert _reach(scoped_report) == (0, 0)
    assert busy.community not in scoped_report
    assert "微信客服消息" not in scoped_report  # a channel used only in the other community

    # A member scoped to the busy community sees its sends.
    openid = f"s2-{uid()}"
    async with unit_of_work(hub.runtime.sessions) as session:
        from storage.communities import Community

        place = await session.get(Community, busy.community_id)
        await staff.create(session=session, name="另一位客服", openid=openid, communities=[place] if place else [])
    assert _reach(await say(hub, openid, f"/report {today:%Y-%m-%d}")) == (2, 2)
