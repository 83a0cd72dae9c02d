"""`butler owner import`, `butler content faq-load|activity-add`: real processes, one-line errors."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from storage import faq, roster
from storage.db import create_engine, create_session_factory
from tests import subproc

BUTLER = str(Path(sys.executable).with_name("butler"))


def butler(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BUTLER_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    return subprocess.run([BUTLER, *args], env=env, cwd=db.parent, capture_output=True, text=True, timeout=120)


async def abutler(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BUTLER_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    return await subproc.run([BUTLER, *args], env=env, cwd=db.parent, capture_output=True, text=True, timeout=120)


async def _read(db: Path):  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    try:
        async with create_session_factory(engine)() as session:
            from sqlalchemy import select

            entries = list(await session.scalars(select(roster.RosterEntry).order_by(roster.RosterEntry.id)))
            answer = await faq.match(session=session, text="快递放哪里", community_id=entries[0].community_id)
            return [(e.building, e.unit, e.room, e.name, e.phone) for e in entries], answer.answer if answer else None
    finally:
        await engine.dispose()


def test_roster_faq_and_activity_commands(tmp_path: Path) -> None:
    db = tmp_path / "butler.db"
    assert butler(db, "community", "add", "翠苑").returncode == 0
    roster_csv = tmp_path / "roster.csv"
    roster_csv.write_text("小区,楼号,单元,房号,姓名,电话\n翠苑,3号楼,2,301,王先生,138-1234-5678\n翠苑,5栋,,1502,李女士,12345\n", encoding="utf-8-sig")
    done = butler(db, "owner", "import", str(roster_csv))
    assert done.returncode == 0, done.stderr
    assert "2 added" in done.stdout and "line(s) 3" in done.stdout
    assert "0 added, 2 already on file" in butler(db, "owner", "import", str(roster_csv)).stdout

    faq_yaml = tmp_path / "faq.yaml"
    faq_yaml.write_text("community: 翠苑\nentries:\n  - question: 快递放哪里\n    keywords: [快递, 驿站]\n    answer: 快递在北门驿站自取。\n", encoding="utf-8")
    done = butler(db, "content", "faq-load", str(faq_yaml))
    assert done.returncode == 0 and "1 FAQ entries loaded for 翠苑" in done.stdout, done.stderr
    done = butler(db, "content", "activity-add", "--title", "端午包粽子", "--starts", "2030-06-01 09:30", "--community", "翠苑")
    assert done.returncode == 0, done.stderr

    rows, answer = asyncio.run(_read(db))
    assert rows == [("3", "2", "301", "王先生", "13812345678"), ("5", "", "1502", "李女士", "12345")]
    assert answer == "快递在北门驿站自取。"

    bad = tmp_path / "bad.csv"
    bad.write_text("community,building,room,phone\n不存在,1,101,13800000000\n", encoding="utf-8")
    for args, words in (
        (("owner", "import", str(bad)), "line 2: no community named '不存在'"),
        (("owner", "import", str(tmp_path / "missing.csv")), "cannot read"),
        (("content", "activity-add", "--title", "x", "--starts", "明天"), "--starts must be"),
        (("content", "faq-load", str(roster_csv)), "entries"),
    ):
        done = butler(db, *args)
        assert done.returncode == 1 and words in done.stderr and done.stderr.count("\n") == 1, (args, done.stderr)
