"""kill -9 in the middle of a 2,000-recipient broadcast, twice: no duplicate, nobody unaccounted for.

Runs real `butler scheduler` processes on a private PostgreSQL database against the fake WeChat
API. The first kill lands while a mass-send call is in flight (the resumed sender repeats it with
the same clientmsgid, which WeChat treats as a no-op); the second lands while a customer-service
message is in flight (the resumed sender records it as unknown and never sends it again).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import uuid
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from bot.devtools.fake_wechat import FakeWeChatAPI, RecordedCall
from storage import broadcasts, communities, segments, staff
from storage.base import utcnow
from storage.broadcasts import Broadcast, Delivery
from storage.owners import BindingStatus, Owner
from tests.scheduler.procs import private_postgres, scheduler_env, session_for, spawn, stop_async

CS, MASS = "/cgi-bin/message/custom/send", "/cgi-bin/message/mass/send"
TEXT = "物业通知：本周六上午免费检测燃气灶，欢迎预约"


async def _seed(url: str) -> int:
    async with session_for(url) as session:
        c = await communities.create(session=session, name="大社区")
        member = await staff.create(session=session, name="客服", openid="s-crash", communities=[c])
        now = utcnow()
        rows = [
            # Verified residents of building 9 (a building broadcast reaches only those).
            {"openid": f"o-{i:04d}", "community_id": c.id, "building": "9", "created_at": now,
             "binding_status": BindingStatus.VERIFIED,
             # Half wrote to us an hour ago (customer-service window open), half did not.
             "last_message_at": now - timedelta(hours=1) if i % 2 == 0 else now - timedelta(days=5)}
            for i in range(2000)
        ]
        await session.execute(insert(Owner), rows)
        bc = await broadcasts.create_draft(
            session=session, text=TEXT, segment=segments.parse("楼栋=9"), scope=None, staff_id=member.id,
            reply_channel="wechat", reply_to="s-crash",
        )
        await broadcasts.confirm(session=session, broadcast=bc, now=now)
        return bc.id


async def _wait(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_kill_9_mid_broadcast_resumes_without_duplicates(fake_wechat: FakeWeChatAPI, tmp_path: Path) -> None:
    async with private_postgres() as url:
        broadcast_id = await _seed(url)
        env = scheduler_env(
            url, fake_wechat.base_url, f"test:{uuid.uuid4().hex}:", tmp_path,  # type: ignore[attr-defined]
            BUTLER_SCHEDULER_JOBS="broadcasts", BUTLER_BROADCAST_RATE_PER_SECOND="400",
            BUTLER_BROADCAST_MASS_BATCH="100", BUTLER_BROADCAST_LEASE_SECONDS="2",
        )
        fake_wechat.delay(MASS, 0.4)  # a mass-send call is "in flight" for a while
        victim: dict[str, subprocess.Popen[bytes]] = {}
        kills: list[str] = []

        def crash_when(call: RecordedCall) -> None:
            # Kill the sender at the exact moment its call reaches WeChat, i.e. mid-call.
            mass_calls = len(fake_wechat.calls_to(MASS))
            cs_calls = len(fake_wechat.calls_to(CS))
            if (call.path == MASS and mass_calls == 4 and not kills) or (
                call.path == CS and cs_calls == 300 and len(kills) == 1
            ):
                os.kill(victim["proc"].pid, signal.SIGKILL)
                kills.append(call.path)

        fake_wechat.listeners.append(crash_when)
        log = tmp_path / "scheduler.log"
        try:
            victim["proc"] = spawn(env, log)
            await _wait(lambda: len(kills) == 1, 60, "the first kill (mid mass send)")
            await asyncio.to_thread(victim["proc"].wait, 10)
            victim["proc"] = spawn(env, log)  # restart
            await _wait(lambda: len(kills) == 2, 60, "the second kill (mid customer-service message)")
            await asyncio.to_thread(victim["proc"].wait, 10)
            victim["proc"] = spawn(env, log)  # restart again
            await _wait_done(url, broadcast_id)
        finally:
            await stop_async(victim["proc"])
        assert kills == [MASS, CS]

        async with session_for(url) as session:
            rows = list(await session.scalars(select(Delivery).where(Delivery.broadcast_id == broadcast_id)))
            bc = await session.get(Broadcast, broadcast_id)
            resumed = await session.scalar(select(func.count()).select_from(Delivery).where(
                Delivery.broadcast_id == broadcast_id, Delivery.reason == "unknown_after_crash"))

    # Every recipient is accounted for, in a final state.
    assert len(rows) == 2000 and bc is not None and bc.status == "done"
    assert Counter(r.status for r in rows).keys() <= {"sent", "failed", "unknown"}
    assert bc.totals["total"] == 2000

    # No duplicates at WeChat: each openid got at most one customer-service message...
    cs_calls = Counter(c.body["touser"] for c in fake_wechat.calls_to(CS) if c.body["text"]["content"] == TEXT)
    assert cs_calls and max(cs_calls.values()) == 1
    # ...and is in at most one distinct mass send; a repeated clientmsgid carries the same list.
    batches: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for call in fake_wechat.calls_to(MASS):
        batches[call.body["clientmsgid"]].append(tuple(call.body["touser"]))
    assert any(len(calls) == 2 for calls in batches.values())  # the batch cut off by the first kill
    assert all(len(set(calls)) == 1 for calls in batches.values())
    in_mass = Counter(openid for calls in batches.values() for openid in calls[0])
    assert max(in_mass.values()) == 1
    assert not set(in_mass) & set(cs_calls)
    assert len(in_mass) == 1000 and len(cs_calls) == 1000
    # The one message in flight at the second kill reached WeChat, but its result was lost with
    # the process: it is recorded as unknown, never resent. Everyone else is recorded as sent.
    assert resumed == 1
    assert sum(1 for r in rows if r.status == "sent") == 1999
    by_row = {r.openid: r for r in rows}
    assert all(by_row[openid].channel == "cs" for openid in cs_calls)


async def _wait_done(url: str, broadcast_id: int, timeout: float = 90) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        async with session_for(url) as session:
            bc = await session.get(Broadcast, broadcast_id)
        if bc is not None and bc.status == "done":
            return
        await asyncio.sleep(0.3)
    raise AssertionError("broadcast did not finish after the restarts")


async def test_a_graceful_stop_finishes_the_message_in_flight_and_hands_over_at_once(
    fake_wechat: FakeWeChatAPI, tmp_path: Path
) -> None:
    async with private_postgres() as url:
        async with session_for(url) as session:
            c = await communities.create(session=session, name="小社区")
            member = await staff.create(session=session, name="客服", openid="s-stop", communities=[c])
            now = utcnow()
            await session.execute(insert(Owner), [
                {"openid": f"o-{i:03d}", "community_id": c.id, "building": "1", "created_at": now,
                 "binding_status": BindingStatus.VERIFIED, "last_message_at": now - timedelta(hours=1)}
                for i in range(300)
            ])
            bc = await broadcasts.create_draft(
                session=session, text=TEXT, segment=segments.parse("楼栋=1"), scope=None, staff_id=member.id,
                reply_channel="wechat", reply_to="s-stop",
            )
            await broadcasts.confirm(session=session, broadcast=bc, now=now)
            broadcast_id = bc.id
        # A long lease: only a handed-back lease lets the next process continue within the test.
        env = scheduler_env(url, fake_wechat.base_url, f"test:{uuid.uuid4().hex}:", tmp_path,  # type: ignore[attr-defined]
                            BUTLER_SCHEDULER_JOBS="broadcasts", BUTLER_BROADCAST_RATE_PER_SECOND="100",
                            BUTLER_BROADCAST_LEASE_SECONDS="600")
        log = tmp_path / "scheduler.log"
        first = spawn(env, log)
        try:
            await _wait(lambda: len(fake_wechat.calls_to(CS)) >= 80, 60, "the first messages")
            first.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(first.wait, 20) == 0
            stopped_at = len(fake_wechat.calls_to(CS))
            assert stopped_at < 300
            second = spawn(env, log)
            try:
                await _wait_done(url, broadcast_id, timeout=40)
            finally:
                await stop_async(second)
        finally:
            await stop_async(first)
        async with session_for(url) as session:
            rows = list(await session.scalars(select(Delivery).where(Delivery.broadcast_id == broadcast_id)))
    # Nothing unknown after a graceful stop.
    assert Counter(r.status for r in rows) == {"sent": 300}, [(r.reason, r.errcode) for r in rows if r.status != "sent"]
    calls = Counter(c.body["touser"] for c in fake_wechat.calls_to(CS) if c.body["text"]["content"] == TEXT)
    assert len(calls) == 300 and max(calls.values()) == 1
