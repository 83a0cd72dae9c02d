"""No outbox row waits forever (issue 16 item 5): handlers checked at start-up, parking, retention."""

from __future__ import annotations

import ast
import os
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import RELAY
from bot.outbox_relay import OutboxRelay, UnhandledOutboxKind
from bot.wording import report as report_words
from bot.wording.steps import STEP_WORDING
from scheduler.jobs import run_job
from storage import dispatch, events, outbox, reports
from storage.base import utcnow
from storage.db import unit_of_work
from storage.events import OwnerNotice
from storage.migrate import upgrade_sync
from storage.money import PaymentMethod
from storage.orders import OrderStatus
from storage.outbox import OutboxEvent
from tests.broadcasts.kit import add_owner, make_place, say, uid
from tests.conftest import Backend, Hub, make_settings, start_hub
from tests.scheduler.kit import TZ
from tests.telegram.conftest import TgHub, create_order, make_world
from tests.workflows.kit import drain, job_at, owner_says

ROOT = Path(__file__).resolve().parents[2]
BUTLER = str(Path(sys.executable).with_name("butler"))
CS_PATH = "/cgi-bin/message/custom/send"


def _emit_calls() -> list[tuple[str, ast.Call]]:
    """Every outbox.emit(…) call anywhere in the code, with its file."""
    calls: list[tuple[str, ast.Call]] = []
    for package in ("bot", "dialogs", "storage", "scheduler"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "emit":
                    calls.append((str(path.relative_to(ROOT)), node))
    return calls


def test_every_emit_passes_one_typed_event_never_a_kind_string_or_payload() -> None:
    calls = _emit_calls()
    assert len(calls) > 30  # the scan sees real calls
    names = {t.__name__ for t in events.EVENT_TYPES}
    for path, call in calls:
        assert len(call.args) == 2 and not call.keywords, f"{path}:{call.lineno}: emit(session, event)"
        built = call.args[1]
        assert isinstance(built, ast.Call) and isinstance(built.func, ast.Name) and built.func.id in names, \
            f"{path}:{call.lineno}: the event must be one of storage.events"


async def test_every_event_type_has_a_handler_with_and_without_telegram(hub: Hub, tg: TgHub) -> None:
    for app in (hub.client.app, tg.hub.client.app):
        assert set(app[RELAY].handlers) >= set(events.EVENT_TYPES)


def test_a_relay_missing_a_handler_refuses(sqlite_url: str) -> None:
    from storage.db import create_engine, create_session_factory

    relay = OutboxRelay(create_session_factory(create_engine(sqlite_url)))

    async def owner_notice(event: events.OwnerNotice, session: object) -> None:
        return None

    relay.register(events.OwnerNotice, owner_notice)  # type: ignore[arg-type]
    with pytest.raises(UnhandledOutboxKind, match="JobCompleted"):
        relay.require()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_butler_serve_refuses_to_start_while_rows_of_an_unhandled_kind_wait(tmp_path: Path) -> None:
    db = tmp_path / "stuck.db"
    url = f"sqlite+aiosqlite:///{db}"
    upgrade_sync(url)
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO outbox (kind, payload, attempts, last_error, created_at) "
                     "VALUES ('survey.legacy_invite', '{}', 0, '', '2026-11-30 10:00:00')")
    port = _free_port()
    env = os.environ | {"BUTLER_DATABASE_URL": url, "BUTLER_PORT": str(port), "BUTLER_REPORT_DIR": str(tmp_path)}
    done = subprocess.run([BUTLER, "serve", "--no-scheduler"], capture_output=True, text=True, env=env,
                          timeout=120, cwd=tmp_path)
    assert done.returncode != 0
    assert "butler: error: refusing to start" in done.stderr and "survey.legacy_invite" in done.stderr

    with sqlite3.connect(db) as conn:  # once the row is dealt with, the same database starts fine
        conn.execute("DELETE FROM outbox WHERE kind = 'survey.legacy_invite'")
    proc = subprocess.Popen([BUTLER, "serve", "--no-scheduler"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "serve exited"
            try:
                import urllib.request

                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                    assert resp.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def test_a_row_failing_repeatedly_is_parked_counted_in_metrics_and_the_daily_report(
    backend: Backend, fake_wechat
) -> None:  # type: ignore[no-untyped-def]
    hub = await start_hub(make_settings(backend, fake_wechat, outbox_max_attempts=2), fake_wechat)
    try:
        openid = f"o-park-{uid()}"
        async with unit_of_work(hub.runtime.sessions) as session:
            event = outbox.emit(session, OwnerNotice(openid=openid, text="您的订单已完成。"))
        fake_wechat.fail(CS_PATH, 48001, times=5)  # "api unauthorized": not permanent, so it is retried
        relay = hub.client.app[RELAY]
        for _ in range(4):
            await relay.drain()
        async with hub.runtime.sessions() as session:
            row = await session.get(OutboxEvent, event.id)
            assert row is not None and row.parked_at is not None and row.processed_at is None
            assert row.attempts == 2  # parked at the limit, never tried again
        resp = await hub.client.get("/metrics")
        body = await resp.text()
        parked = [line for line in body.splitlines() if line.startswith("butler_outbox_parked ")]
        assert parked and float(parked[0].split()[1]) >= 1
        async with hub.runtime.sessions() as session:
            built = await reports.build(session=session, day=utcnow().astimezone(TZ).date(), tz=TZ)
        assert "发送失败已搁置的消息" in report_words.render_text(built)
    finally:
        await hub.client.close()


async def test_delivered_rows_are_deleted_after_the_retention_period_and_parked_ones_kept(hub: Hub) -> None:
    async with unit_of_work(hub.runtime.sessions) as session:
        old = outbox.emit(session, OwnerNotice(openid="o-old", text="x"))
        fresh = outbox.emit(session, OwnerNotice(openid="o-fresh", text="x"))
        parked = outbox.emit(session, OwnerNotice(openid="o-parked", text="x"))
        await session.flush()
        old.processed_at = utcnow() - timedelta(days=8)
        fresh.processed_at = utcnow() - timedelta(days=1)
        parked.parked_at, parked.attempts = utcnow() - timedelta(days=30), 5
    ids = (old.id, fresh.id, parked.id)
    await run_job("outbox_maintenance", job_at(hub, 0))
    async with hub.runtime.sessions() as session:
        left = set(await session.scalars(select(OutboxEvent.id).where(OutboxEvent.id.in_(ids))))
    assert left == {fresh.id, parked.id}


async def test_order_completed_rows_are_delivered_as_the_merchants_settlement_note(tg: TgHub) -> None:
    hub = tg.hub
    world = await make_world(hub)
    order_id, code = await create_order(hub, world)
    merchant_tg = world.merchants["张师傅"]
    async with unit_of_work(hub.runtime.sessions) as session:
        assert (await dispatch.accept(session=session, order_id=order_id, telegram_id=merchant_tg,
                                      today=utcnow().date(), say=STEP_WORDING)).won
        assert (await dispatch.advance(session=session, order_id=order_id, telegram_id=merchant_tg,
                                       target=OrderStatus.COMPLETED, amount_fen=15000, method=PaymentMethod.CASH,
                                       say=STEP_WORDING)).ok
    await drain(hub)
    notes = [c.text for c in tg.fake.sent_to(merchant_tg) if code in c.text and "应结给您" in c.text]
    assert len(notes) == 1 and "收款 150.00 元" in notes[0]
    async with hub.runtime.sessions() as session:
        rows = [e for e in await session.scalars(select(OutboxEvent).where(OutboxEvent.kind == "order.completed"))
                if e.payload.get("order_id") == order_id]
    assert len(rows) == 1 and rows[0].processed_at is not None and rows[0].last_error == ""


async def test_without_telegram_staff_alerts_reach_the_staff_wechat_openids_in_scope(hub: Hub) -> None:
    place = await make_place(hub)
    other = await make_place(hub)
    owner = await add_owner(hub, place, "lights", window_open=True)
    reply = await owner_says(hub, owner, "我们单元楼道灯坏了")
    assert "工单号 W" in reply
    await drain(hub)
    code = reply.split("工单号 ")[1].split("。")[0]

    def texts_to(openid: str) -> list[str]:
        return [c.body["text"]["content"] for c in hub.fake_wechat.calls_to(CS_PATH)
                if c.body.get("touser") == openid and code in c.body["text"]["content"]]

    assert len(texts_to(place.staff_openid)) == 1 and len(texts_to(place.admin_openid)) == 1
    assert texts_to(other.staff_openid) == []  # another community's staff are not told
    assert "已受理" in await say(hub, place.staff_openid, f"/wo_ack {code}")
