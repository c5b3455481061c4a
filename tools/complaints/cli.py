"""The `complaints` command line: the only module that prints, exits, reads the clock or uses Click.

Every command parses its options, makes one library call, reports the result and sets the exit
code: 0 clean, 1 problems found (or a library error), 2 usage.
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from zoneinfo import ZoneInfo

import click

from . import __version__
from .errors import ComplaintsError

if TYPE_CHECKING:
    from .repository import Repository


class ComplaintsGroup(click.Group):
    """Converts library errors into Click errors at one boundary, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ComplaintsError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


def today_in(timezone: str, override: dt.date | None) -> dt.date:
    """Today's date in the organisation's time zone; the only place that reads the clock."""
    if override is not None:
        return override
    return dt.datetime.now(ZoneInfo(timezone)).date()


def fail(message: str) -> NoReturn:
    raise click.ClickException(message)


class DateParam(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date in the form YYYY-MM-DD", param, ctx)


DATE = DateParam()

repo_option = click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The case repository (the folder holding policy.yml). Default: found from the current folder upwards.",
)
today_option = click.option(
    "--today",
    type=DATE,
    default=None,
    help="Take this date as today (default: today in the organisation's time zone).",
)


@click.group(cls=ComplaintsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="complaints")
def cli() -> None:
    """Track efficiency complaints (效能投诉) kept as YAML files under cases/.

    Run `complaints COMMAND --help` for a command's options and an example.
    """


def main() -> None:
    cli(prog_name="complaints")


# --- validate -------------------------------------------------------------------------------


def open_repo(repo: Path | None) -> "Repository":
    from .repository import Repository

    return Repository.open(repo)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--changed-since", metavar="REF", help="Check only case files changed since this git ref (plus the repository-wide rules).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Processes to use (default: one per core).")
@repo_option
@today_option
def validate(paths: tuple[Path, ...], changed_since: str | None, fmt: str, jobs: int | None, repo: Path | None, today: dt.date | None) -> None:
    """Check case files against the schema, the policy and the lifecycle rules.

    With no PATHS, checks every file under cases/; with --changed-since, only the case files
    changed since that git ref. Ids must be unique across the repository either way. Prints one
    line per problem, FILE:LINE:COLUMN: FIELD: MESSAGE, never the value of a field.
    Exit status: 0 no problems, 1 problems found, 2 usage error.

    Example:

        complaints validate

        complaints validate --changed-since origin/main --format json
    """
    from .reporter import FORMATS
    from .validate import validate as run

    if paths and changed_since:
        raise click.UsageError("give PATHS or --changed-since, not both")
    repository = open_repo(repo)
    report = run(repository, today_in(repository.policy.timezone, today), paths=paths, changed_since=changed_since, jobs=jobs)
    click.echo(FORMATS[fmt](report), nl=False)
    sys.exit(0 if report.ok else 1)
