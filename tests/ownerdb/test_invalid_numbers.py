"""无效号码清查: /owners invalid over WeChat and `butler owner export` (CSV and XLSX) with the real CLI."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import load_workbook

from tests.broadcasts.kit import make_place, say
from tests.conftest import Hub
from tests.ownerdb.kit import abutler, add_roster, owner_at


async def _seed(hub: Hub) -> tuple[object, object]:
    place, other = await make_place(hub), await make_place(hub)
    await add_roster(hub, place, "1", "1", "101", "13700000101", "好号码")
    await add_roster(hub, place, "1", "1", "102", "1234", "短号码")
    await add_roster(hub, place, "1", "1", "103", "", "没号码")
    await add_roster(hub, place, "1", "1", "104", "13700000104", "=HYPERLINK(\"http://x\")")
    await add_roster(hub, other, "2", "2", "202", "999", "别的小区")
    await owner_at(hub, place, "1", "1", "105", phone="")  # a follower who bound without a usable number
    return place, other


async def test_owners_invalid_lists_bad_missing_and_unreachable_numbers_in_scope(hub: Hub) -> None:
    place, other = await _seed(hub)
    staff = place.staff_openid  # type: ignore[attr-defined]
    # A phone visit found 1-1-104 unreachable: staff tag it, and it joins the list.
    assert "已加标签 空号" in await say(hub, staff, "/tag 1-1-104 +空号")
    reply = await say(hub, staff, "/owners invalid")
    assert reply.startswith("号码需要核实：4 人"), reply
    assert "1号楼1单元102室 短号码 1234｜号码格式无效" in reply
    assert "1号楼1单元103室 没号码 —｜缺少号码" in reply
    assert "员工标记：空号" in reply and "1号楼1单元105室" in reply
    assert "好号码" not in reply and "别的小区" not in reply
    assert "无权" in await say(hub, staff, f"/owners invalid {other.community}")  # type: ignore[attr-defined]
    admin = await say(hub, place.admin_openid, f"/owners invalid {other.community}")  # type: ignore[attr-defined]
    assert "别的小区 999｜号码格式无效" in admin and "短号码" not in admin
    assert "用法" in await say(hub, staff, "/owners everyone")


async def test_owner_export_writes_csv_and_xlsx_without_formulas(hub: Hub, tmp_path: Path) -> None:
    place, _ = await _seed(hub)
    community = place.community  # type: ignore[attr-defined]
    done = (await abutler(hub, "owner", "export", "--invalid", "--community", community, "--format", "csv",
                  "-o", str(tmp_path / "bad.csv")))
    assert done.returncode == 0, done.stderr
    assert "3 people with invalid or unreachable numbers" in done.stdout
    with (tmp_path / "bad.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["name"] for r in rows} == {"短号码", "没号码", "业主"}
    assert (tmp_path / "bad.csv").stat().st_mode & 0o077 == 0  # personal data: owner-only file

    done = (await abutler(hub, "owner", "export", "--community", community, "--format", "xlsx", "-o", str(tmp_path / "all.xlsx")))
    assert done.returncode == 0 and "5 people" in done.stdout, done.stdout + done.stderr
    sheet = load_workbook(tmp_path / "all.xlsx").active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:6] == ["community", "building", "unit", "room", "name", "phone"]
    names = [row[4] for row in values[1:]]
    assert "'=HYPERLINK(\"http://x\")" in names  # kept as text, never a live formula
    assert all(row[0] == community for row in values[1:])

    bad = (await abutler(hub, "owner", "export", "--format", "pdf"))
    assert bad.returncode != 0 and "csv or xlsx" in bad.stderr
    bad = (await abutler(hub, "owner", "export", "--format", "csv", "--community", "没有这个小区", "-o", str(tmp_path / "x.csv")))
    assert bad.returncode != 0 and "no community" in bad.stderr
