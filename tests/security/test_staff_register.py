"""Staff who left: `butler staff disable ID` stops them acting at every entry point at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.commands.registry import REFUSAL
from tests import subproc
from tests.broadcasts.kit import make_place, say
from tests.conftest import Backend, Hub

BUTLER = str(Path(sys.executable).with_name("butler"))


async def abutler(db_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BUTLER_DATABASE_URL": db_url}
    return await subproc.run([BUTLER, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


async def test_a_disabled_staff_member_is_refused_like_anyone_else(hub: Hub, backend: Backend, tmp_path: Path) -> None:
    place = await make_place(hub)
    assert "可用命令" in await say(hub, place.staff_openid, "/help")
    done = (await abutler(backend.database_url, "staff", "disable", str(place.staff_id), cwd=tmp_path))
    assert done.returncode == 0 and "disabled" in done.stdout, done.stderr
    assert await say(hub, place.staff_openid, "/orders") == REFUSAL
    assert await say(hub, place.staff_openid, f"/broadcast 小区={place.community} | 离职后还想发") == REFUSAL
    done = (await abutler(backend.database_url, "staff", "enable", str(place.staff_id), cwd=tmp_path))
    assert done.returncode == 0, done.stderr
    assert "可用命令" in await say(hub, place.staff_openid, "/help")
    missing = (await abutler(backend.database_url, "staff", "disable", "999999999", cwd=tmp_path))
    assert missing.returncode != 0 and "no staff member" in missing.stderr
