"""`butler demo` as a newcomer runs it: a process that serves /sim, stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BUTLER = [sys.executable, "-c", "from bot.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - local test server
        return resp.status, resp.read().decode()


def test_butler_demo_serves_the_simulator_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUTLER_")}
    proc = subprocess.Popen(
        [*BUTLER, "demo", "--port", str(port), "--db", str(tmp_path / "demo.db"), "--reset"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status, html = _get(f"http://127.0.0.1:{port}/sim")
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline, "butler demo did not come up in 90 s"
                time.sleep(0.5)
        assert status == 200 and "物业管家" in html
        assert _get(f"http://127.0.0.1:{port}/healthz")[0] == 200
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0, out
        assert f"http://127.0.0.1:{port}/sim" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_busy_port_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("BUTLER_")}
        done = subprocess.run(
            [*BUTLER, "demo", "--port", str(port), "--db", str(tmp_path / "demo.db")],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90,
        )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("butler: error: cannot listen on")


def test_an_unknown_merchant_channel_is_a_one_line_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUTLER_")}
    done = subprocess.run(
        [*BUTLER, "demo", "--merchants", "slack", "--port", "0", "--db", str(tmp_path / "demo.db")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == ["butler: error: --merchants must be telegram or wecom, not 'slack'"]
    assert not (tmp_path / "demo.db").exists()  # refused before anything was created
    helped = subprocess.run([*BUTLER, "demo", "--help"], env=env, capture_output=True, text=True, timeout=90)
    assert "--merchants" in helped.stdout
