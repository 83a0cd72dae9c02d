"""`butler demo`: the whole hub on this machine, no credentials, with the /sim simulator."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from pathlib import Path

import typer

from bot.cli.common import CliError


def demo_command(
    port: int = typer.Option(8080, "--port", min=0, max=65535, help="Port for the hub and /sim"),
    host: str = typer.Option("127.0.0.1", "--host", help="Listen address"),
    reset: bool = typer.Option(False, "--reset", help="Delete the demo database and load fresh demo data"),
    db: str = typer.Option("butler-demo.db", "--db", help="SQLite file the demo keeps its data in"),
    merchants: str = typer.Option(
        "telegram", "--merchants", help="Where the demo merchants work: telegram (the group) or wecom (企业微信 app)"),
) -> None:
    """Run the hub with fake WeChat and Telegram platforms and demo data; open /sim in a browser."""
    if merchants not in ("telegram", "wecom"):
        raise CliError(f"--merchants must be telegram or wecom, not {merchants!r}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(host=host, port=port, reset=reset, db=Path(db), merchants=merchants))


async def _serve(*, host: str, port: int, reset: bool, db: Path, merchants: str = "telegram") -> None:
    from bot.demo.runner import start_demo

    if port:  # fail before migrating and seeding when the port is taken
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    try:
        demo = await start_demo(db_path=db, host=host, port=port, reset=reset, merchants=merchants)
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    loaded = ", ".join(f"{v} {k}" for k, v in demo.seeded.added.items()) or f"kept the data in {db}"
    typer.echo(f"butler demo: {loaded}")
    typer.echo(f"butler demo: simulator at {demo.base_url}/sim  (Ctrl-C to stop)")
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.Event().wait()
    finally:
        await demo.close()
