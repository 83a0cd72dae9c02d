"""Staff commands over the real WeChat path: refusals, the guard, help, scope, listing, cancelling."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app import SERVICES
from bot.commands.registry import REFUSAL, REGISTRY, parse
from storage.broadcasts import Broadcast
from storage.db import unit_of_work
from tests.broadcasts.kit import add_owner, cs_texts_to, make_place, say, uid
from tests.conftest import Hub, statements_naming


async def _broadcasts(hub: Hub) -> int:
    async with hub.runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Broadcast)) or 0)


async def test_a_non_staff_sender_is_refused_and_nothing_executes(hub: Hub) -> None:
    place = await make_place(hub)
    owner = await add_owner(hub, place, "o", window_open=True)
    before = await _broadcasts(hub)
    for text in (f"/broadcast 小区={place.community} | 免费洗车", "/orders", "/merchant suspend 1", "/help"):
        assert await say(hub, owner, text) == REFUSAL
    stranger = f"o-new-{uid()}"
    assert await say(hub, stranger, "/cancel_broadcast 1") == REFUSAL
    assert await _broadcasts(hub) == before
    # An owner's plain 取消 still belongs to their own dialogs, not to the command layer.
    assert await say(hub, owner, "取消") != REFUSAL


async def test_a_guarded_term_is_refused_before_any_preview(hub: Hub) -> None:
    place = await make_place(hub)
    await add_owner(hub, place, "o", window_open=True)
    before = await _broadcasts(hub)
    reply = await say(hub, place.staff_openid, f"/broadcast 小区={place.community} | 本小区即将实行零物业费，欢迎咨询")
    assert reply.startswith("不能发送") and "内部" in reply
    assert "零物业费" not in reply
    assert await _broadcasts(hub) == before
    assert "没有待确认的广播" in await say(hub, place.staff_openid, "/confirm")


async def test_help_lists_what_the_caller_may_use_and_documents_the_segment_syntax(hub: Hub) -> None:
    place = await make_place(hub)
    listing = await say(hub, place.staff_openid, "/help")
    for name in ("broadcast", "broadcasts", "cancel_broadcast", "survey_invite", "record_survey", "orders",
                 "assign", "merchant", "report", "close_complaint"):
        assert f"/{name} — " in listing
    assert "/confirm" not in listing  # internal, reached by buttons and the 确认 reply
    detail = await say(hub, place.staff_openid, "/help broadcast")
    for key in ("小区=", "楼栋=", "标签=", "下单=钟点工/90天", "未下单=任意", "问卷.", "绑定=", "关注=", "退订=", "类型=通知"):
        assert key in detail


async def test_scoped_staff_cannot_target_another_community(hub: Hub) -> None:
    mine, other = await make_place(hub), await make_place(hub)
    await add_owner(hub, other, "x", window_open=True)
    reply = await say(hub, mine.staff_openid, f"/broadcast 小区={other.community} | 你好")
    assert "无权限" in reply or "没有「" in reply, reply
    # Without a 小区 condition a scoped staff member reaches only their own communities.
    await add_owner(hub, mine, "m", window_open=True)
    preview = await say(hub, mine.staff_openid, "/broadcast 标签=不存在的标签 | 你好")
    assert "没有匹配的业主" in preview
    preview = await say(hub, mine.staff_openid, "/broadcast 关注=是 | 你好")
    assert "将发送 1 人" in preview, preview
    # The admin may target any community.
    preview = await say(hub, mine.admin_openid, f"/broadcast 小区={other.community} | 你好")
    assert "将发送 1 人" in preview, preview


async def test_bad_segments_and_usage_get_explained(hub: Hub) -> None:
    place = await make_place(hub)
    assert "请用 | 分隔" in await say(hub, place.staff_openid, "/broadcast 小区=翠苑 没有分隔符")
    assert "未知条件" in await say(hub, place.staff_openid, "/broadcast 颜色=红 | 你好")
    assert "没有名为「修飞机」的服务" in await say(hub, place.staff_openid, "/broadcast 下单=修飞机/30天 | 你好")
    assert "没有这个命令" in await say(hub, place.staff_openid, "/launch_rockets")


async def test_scheduled_broadcasts_are_listed_and_cancellable(hub: Hub) -> None:
    place = await make_place(hub)
    owner = await add_owner(hub, place, "o", window_open=True)
    preview = await say(hub, place.staff_openid, f"/broadcast 小区={place.community} | 元旦联欢会报名 at 2030-12-31 09:00")
    assert "定时：2030-12-31 09:00" in preview
    confirmed = await say(hub, place.staff_openid, "确认")
    assert "已定时" in confirmed and "2030-12-31 09:00" in confirmed
    async with unit_of_work(hub.runtime.sessions) as session:
        bid = await session.scalar(select(func.max(Broadcast.id)).where(Broadcast.staff_id == place.staff_id))
    listing = await say(hub, place.staff_openid, "/broadcasts")
    assert f"#{bid} 定时 12-31 09:00" in listing
    assert "已取消广播" in await say(hub, place.staff_openid, f"/cancel_broadcast {bid}")
    assert "无法取消" in await say(hub, place.staff_openid, f"/cancel_broadcast {bid}")
    # Another staff member's scope does not reach it.
    other = await make_place(hub)
    assert "没有找到" in await say(hub, other.staff_openid, f"/cancel_broadcast {bid}")
    assert "已经过去" in await say(hub, place.staff_openid, f"/broadcast 小区={place.community} | 晚了 at 2020-01-01 09:00")
    await hub.client.app[SERVICES].sender.run_once()
    assert cs_texts_to(hub, owner) == []


def test_the_parser_and_registry_declare_each_command_once() -> None:
    assert parse("/broadcast@butler_hub_bot 小区=翠苑 | 你好") == ("broadcast", "小区=翠苑 | 你好")
    assert parse("／help") == ("help", "")
    assert parse("broadcast") is None
    for cmd in REGISTRY.commands.values():
        assert cmd.summary, cmd.name  # the docstring is the help


async def test_long_answers_fit_a_wechat_message(hub: Hub) -> None:
    place = await make_place(hub)
    report = await say(hub, place.admin_openid, "/report 2026-11-20")
    assert report.startswith("📊 日报 2026-11-20")
    assert len(report.encode()) <= 2048
    assert len((await say(hub, place.admin_openid, "/help broadcast")).encode()) <= 2048


async def test_owners_typing_confirm_are_not_looked_up_as_staff_one_query_each(hub: Hub) -> None:
    """Issue 18: 确认/取消 from owners is checked against the per-worker copy of staff openids, so
    ten owners cost at most one read of the staff table per cache period, not ten lookups."""
    place = await make_place(hub)
    with statements_naming(hub, "FROM staff") as staff_reads:
        replies = [await say(hub, f"o-confirm-{uid()}", "确认") for _ in range(10)]
    assert all(r and r != REFUSAL for r in replies), replies  # owners still get their own answer
    assert len(staff_reads.statements) <= min(staff_reads.periods, 9), staff_reads.statements
    # A staff member's 确认 is still theirs: with no draft it is answered as a staff command would be.
    assert "没有待确认的广播" in await say(hub, place.staff_openid, "/confirm")
