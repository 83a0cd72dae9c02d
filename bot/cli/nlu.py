"""`butler nlu parse` and `butler nlu eval`: the NLU backend from the command line."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from nlu.parser import Parser

nlu_app = typer.Typer(
    help="Parse owners' messages and evaluate the active NLU backend.",
    no_args_is_help=True,
    add_completion=False,
)


def _fail(message: str) -> typer.Exit:
    # one line, whatever the underlying library put in its message
    typer.echo("error: " + " ".join(message.split()), err=True)
    return typer.Exit(code=2)


def _parser() -> Parser:
    # Same Settings (env + .env) and the same factory as `butler serve`, so both parse alike.
    from bot.runtime import build_nlu
    from bot.settings import Settings

    return build_nlu(Settings())


def _now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _fail(
            f"--now must be ISO 8601 (e.g. 2026-11-26T10:00:00+08:00), got {value!r}"
        ) from None


@nlu_app.command()
def parse(
    text: Annotated[
        str | None, typer.Argument(help="Text to parse; omit to read stdin lines.")
    ] = None,
    now: Annotated[
        str | None, typer.Option("--now", help="Reference time, ISO 8601 (default: now).")
    ] = None,
) -> None:
    """Parse TEXT (or each stdin line) and print the NLU result as JSON."""
    ref = _now(now)
    parser = _parser()  # bad settings surface as the CLI's one-line configuration error

    async def run() -> None:
        await parser.warm_up()
        try:
            if text is not None:
                result = await parser.parse(text, now=ref)
                sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
                return
            out = sys.stdout
            for line in sys.stdin:
                line = line.rstrip("\r\n")
                result = await parser.parse(line, now=ref)
                out.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
        finally:
            await parser.aclose()

    try:
        asyncio.run(run())
    except (OSError, ValueError) as exc:
        raise _fail(str(exc)) from None


@nlu_app.command("eval")
def eval_(
    file: Annotated[
        Path,
        typer.Argument(
            help="Rasa-format test file (e.g. nlu/data/test_nlu.yml), or a .txt of out-of-scope lines."
        ),
    ],
    negatives: Annotated[
        Path | None,
        typer.Option("--negatives", help="Also report the action rate on these out-of-scope lines (.txt)."),
    ] = None,
    also: Annotated[
        Path | None,
        typer.Option(
            "--also",
            help="Provenance table whose notes give second labels ('X also acceptable'): "
            "also report accuracy counting either label, e.g. nlu/data/eval/indomain_real_lines.md.",
        ),
    ] = None,
    now: Annotated[str | None, typer.Option("--now", help="Reference time (ISO 8601).")] = None,
    min_f1: Annotated[
        float | None, typer.Option("--min-f1", help="Fail below this macro-F1.")
    ] = None,
) -> None:
    """Per-intent F1, confusions, entity accuracy, reliability table and out-of-scope action rate."""
    from nlu.evaluate import evaluate, second_labels

    for path in (file, negatives, also):
        if path is not None and not path.is_file():
            raise _fail(f"no such file: {path}")
    ref = _now(now)
    try:
        seconds = second_labels(also) if also is not None else None
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"cannot read {also}: {exc}") from None
    parser = _parser()  # bad settings surface as the CLI's one-line configuration error

    async def run() -> tuple[Any, Any, str]:
        await parser.warm_up()
        try:
            report = await evaluate(parser, file, now=ref, also=seconds)
            extra = await evaluate(parser, negatives, now=ref) if negatives is not None else None
            return report, extra, await parser.health()
        finally:
            await parser.aclose()

    try:
        report, extra, health = asyncio.run(run())
    except (OSError, ValueError) as exc:
        raise _fail(str(exc)) from None
    from bot.settings import Settings

    backend = Settings().nlu
    typer.echo(f"backend: {backend} ({health})")
    typer.echo(report.format())
    if extra is not None:
        n, total = extra.oos_actions
        typer.echo(f"negatives {negatives}: {n / total:.3%} trigger an action ({n}/{total})")
        typer.echo("\n".join(f"  {t} -> {p}" for t, p in extra.oos_examples[:10]))
    if min_f1 is not None and report.macro_f1 < min_f1:
        raise _fail(f"macro-F1 {report.macro_f1:.3f} is below {min_f1}")
