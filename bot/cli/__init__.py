"""The `butler` command line; each feature adds a sub-app in its own module."""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError

from bot.cli.admin import community_app, merchant_app, staff_app
from bot.cli.common import CliError
from bot.cli.content import content_app
from bot.cli.demo import demo_command
from bot.cli.owner import owner_app
from bot.cli.server import db_app, scheduler_command, serve_command
from bot.cli.services import service_app
from bot.cli.statements import statements_command
from bot.cli.supplier import report_command
from bot.cli.survey import survey_app
from bot.cli.telegram import telegram_app
from bot.settings import describe_invalid

app = typer.Typer(
    name="butler",
    help="物业管家 Butler Hub.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve_command)
app.command("scheduler")(scheduler_command)
app.add_typer(db_app, name="db")
app.add_typer(community_app, name="community")
app.add_typer(staff_app, name="staff")
app.add_typer(merchant_app, name="merchant")
app.add_typer(service_app, name="service")
app.command("report")(report_command)  # issue 6; importing bot.cli.supplier adds `merchant renew`
app.add_typer(owner_app, name="owner")  # issue 4
app.add_typer(survey_app, name="survey")  # issue 4
app.add_typer(content_app, name="content")  # issue 4
app.command("statements")(statements_command)
app.add_typer(telegram_app, name="telegram")
app.command("demo")(demo_command)

try:  # the NLU commands live with the nlu feature
    from bot.cli.nlu import nlu_app

    app.add_typer(nlu_app, name="nlu")
except ImportError:  # pragma: no cover - only while the feature is being built
    pass


def main() -> None:
    """Console entry point: every failure is one line on stderr and a non-zero exit."""
    try:
        # Without standalone mode click returns (not raises) the code of a typer.Exit.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except typer.TyperException as exc:
        print(f"butler: error: {exc.format_message()}", file=sys.stderr)
        sys.exit(exc.exit_code or 2)
    except CliError as exc:
        print(f"butler: error: {exc}", file=sys.stderr)
        sys.exit(1)
    except ValidationError as exc:
        print(f"butler: error: {describe_invalid(exc)}", file=sys.stderr)
        sys.exit(2)
