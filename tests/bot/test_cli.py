"""The `butler` console script: contract commands, one-line errors, non-zero exits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BUTLER = str(Path(sys.executable).with_name("butler"))


def run(args: list[str], db: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"BUTLER_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    return subprocess.run([BUTLER, *args], capture_output=True, text=True, env=env, timeout=120, cwd=db.parent)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli") / "butler.db"


def test_registering_a_community_staff_and_merchant(db: Path) -> None:
    assert run(["community", "add", "翠苑", "--property-fee-monthly", "250000.50"], db).returncode == 0
    assert run(["staff", "add", "--name", "王经理", "--openid", "o_staff", "--role", "admin"], db).returncode == 0
    done = run(["merchant", "add", "--name", "张师傅", "--telegram-id", "5001", "--services", "钟点工,家居家电维修",
                "--community", "翠苑", "--qualification-expires", "2027-06-30"], db)
    assert done.returncode == 0, done.stderr
    assert "张师傅" in done.stdout


def test_a_merchant_and_staff_member_on_wecom(db: Path) -> None:
    """Issue 17: WeCom only, or both channels; neither channel is refused."""
    done = run(["merchant", "add", "--name", "企微王师傅", "--wecom-userid", "WangShiFu", "--services", "钟点工"], db)
    assert done.returncode == 0, done.stderr
    both = run(["merchant", "add", "--name", "双通道李师傅", "--telegram-id", "5101", "--wecom-userid", "LiShiFu",
                "--services", "钟点工"], db)
    assert both.returncode == 0, both.stderr
    assert run(["staff", "add", "--name", "企微客服", "--wecom-userid", "KeFu01"], db).returncode == 0
    again = run(["merchant", "add", "--name", "重复", "--wecom-userid", "WangShiFu", "--services", "钟点工"], db)
    assert again.returncode != 0 and again.stderr.startswith("butler: error:")


@pytest.mark.parametrize(
    "args",
    [
        ["merchant", "add", "--name", "无渠道", "--services", "钟点工"],
        ["merchant", "add", "--name", "李", "--telegram-id", "5002", "--services", "修飞机"],
        ["merchant", "add", "--name", "李", "--telegram-id", "abc", "--services", "钟点工"],
        ["merchant", "add", "--name", "李", "--telegram-id", "5003", "--services", "钟点工", "--qualification-expires", "明年"],
        ["merchant", "add", "--name", "李", "--telegram-id", "5004", "--services", "钟点工", "--community", "不存在"],
        ["staff", "add", "--name", "赵"],
        ["staff", "add", "--name", "赵", "--openid", "o2", "--role", "boss"],
        ["community", "add", "金桥", "--property-fee-monthly", "-5"],
        ["service", "set", "钟点工", "--commission-rate", "60%"],
        ["service", "set", "钟点工", "--commission-rate", "两成"],
        ["service", "set", "修飞机", "--commission-rate", "0.2"],
        ["service", "set", "钟点工"],
        ["no-such-command"],
    ],
)
def test_bad_input_is_one_line_and_non_zero(db: Path, args: list[str]) -> None:
    done = run(args, db)
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("butler: error:")


def test_admins_set_a_services_commission_rate_within_the_plans_range(db: Path) -> None:
    done = run(["service", "set", "钟点工", "--commission-rate", "25%", "--price-note", "50元/小时起"], db)
    assert done.returncode == 0, done.stderr
    assert "25.0%" in done.stdout
    listing = run(["service", "list"], db).stdout
    assert "钟点工\t25.0%\t50元/小时起" in listing
    assert listing.count("20.0%") == 32  # the other 32 keep the seeded default
    assert run(["service", "set", "钟点工", "--commission-rate", "0.1"], db).returncode == 0  # the range is inclusive


def test_every_command_has_help(db: Path) -> None:
    for args in (["--help"], ["serve", "--help"], ["scheduler", "--help"], ["db", "upgrade", "--help"],
                 ["community", "add", "--help"], ["staff", "add", "--help"], ["merchant", "add", "--help"]):
        assert run(args, db).returncode == 0, args


@pytest.mark.parametrize(
    ("env", "args"),
    [
        ({"BUTLER_NLU": "spacy"}, ["nlu", "parse", "你好"]),
        ({"BUTLER_PORT": "eighty"}, ["serve"]),
        ({}, ["nlu", "parse", "你好", "--now", "yesterday"]),
    ],
)
def test_bad_configuration_is_one_line_and_non_zero(db: Path, env: dict[str, str], args: list[str]) -> None:
    done = subprocess.run(
        [BUTLER, *args], capture_output=True, text=True, timeout=120, cwd=db.parent,
        env=os.environ | {"BUTLER_DATABASE_URL": f"sqlite+aiosqlite:///{db}"} | env,
    )
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_scheduler_sets_up_a_fresh_sqlite_database_like_serve(tmp_path: Path) -> None:
    """`butler scheduler` alone on a new machine: the embedded database is migrated before jobs run."""
    import contextlib
    import queue
    import signal
    import sqlite3
    import threading
    import time

    db = tmp_path / "fresh.db"
    env = os.environ | {"BUTLER_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "BUTLER_SCHEDULER_TICK_SECONDS": "1",
                        "BUTLER_REPORT_DIR": str(tmp_path / "reports")}
    proc = subprocess.Popen([BUTLER, "scheduler"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env=env, cwd=tmp_path)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()  # type: ignore[union-attr]
    seen: list[str] = []
    try:
        # A job that logs a result on every tick: two results mean two whole ticks ran on the tables.
        deadline = time.monotonic() + 90
        while sum("job qualification_expiry: {" in line for line in seen) < 2:
            assert proc.poll() is None, "".join(seen)
            assert time.monotonic() < deadline, "".join(seen)
            with contextlib.suppress(queue.Empty):
                seen.append(lines.get(timeout=1))
                assert " failed" not in seen[-1], "".join(seen)  # e.g. "job broadcasts failed": no such table
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    log = "".join(seen)
    assert "no such table" not in log and " failed" not in log, log
    with sqlite3.connect(db) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"alembic_version", "orders", "job_claims", "outbox"} <= tables
