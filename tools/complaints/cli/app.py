"""The `complaints` command line: the only module that prints, exits, reads the clock or uses Click.

Every command parses its options, makes one library call, reports the result and sets the exit
code, the same in every command: 0 done, 1 problems found (or the library refused: a case that
does not exist, an event the state does not allow, "Save?" answered no), 2 usage (an unknown
option, a word that is not in the policy's vocabulary, a malformed date), 130 interrupted.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NoReturn
from zoneinfo import ZoneInfo

import click

from complaints import __version__
from complaints.core import events, lifecycle
from complaints.errors import CalendarError, ComplaintsError, UsageMistake

if TYPE_CHECKING:
    from complaints.adapters.repository import Repository
    from complaints.cli.prompts import NewCaseAnswers
    from complaints.commands.new import NewCase


def _interrupted() -> NoReturn:
    click.echo("\ninterrupted; nothing was written", err=True)
    sys.exit(130)


class ComplaintsCommand(click.Command):
    """Converts library errors into Click errors in the command's own context, so a usage
    error shows that command's usage line, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageMistake as exc:
            raise click.UsageError(str(exc), ctx) from None
        except CalendarError as exc:
            # Suggest the command-line way out only where the command has it.
            hint = ", or pass --accept-unconfirmed" if any(p.name == "accept_unconfirmed" for p in self.params) else ""
            raise click.ClickException(f"{exc}{hint}") from None
        except ComplaintsError as exc:
            raise click.ClickException(str(exc)) from None


class ComplaintsGroup(click.Group):
    """Converts library errors into Click errors at one boundary, never a traceback; Ctrl-C
    (at a question too) exits 130, as in git and gh."""

    command_class = ComplaintsCommand
    group_class = type  # subgroups (`site`) behave the same

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageMistake as exc:
            raise click.UsageError(str(exc), ctx) from None
        except CalendarError as exc:
            # Suggest the command-line way out only where the command has it.
            command = self.get_command(ctx, ctx.invoked_subcommand or "")
            has_option = command is not None and any(p.name == "accept_unconfirmed" for p in command.params)
            hint = ", or pass --accept-unconfirmed" if has_option else ""
            raise click.ClickException(f"{exc}{hint}") from None
        except ComplaintsError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            _interrupted()
        except click.exceptions.Abort as exc:
            if isinstance(exc.__context__, EOFError):
                raise click.ClickException("standard input ended before every question was answered; nothing was written") from None
            _interrupted()


# --- colour: on a terminal, unless NO_COLOR is set or --color says otherwise -------------------

_COLOUR_WORDS = (
    (re.compile(r"\bOVERDUE\b"), "red"),
    (re.compile(r"\bdue soon\b"), "yellow"),
    (re.compile(r"^(warning|error):", re.MULTILINE), "yellow"),
)


def _coloured(text: str) -> str:
    """``text`` with OVERDUE in red and due soon / warnings in yellow; click.echo drops the
    colour again when it is off (not a terminal, NO_COLOR, --color never)."""
    for pattern, colour in _COLOUR_WORDS:
        text = pattern.sub(_painter(colour), text)
    return text


def _painter(colour: str) -> Callable[[re.Match[str]], str]:
    return lambda match: click.style(match.group(0), fg=colour, bold=colour == "red")


def _colour_setting(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if value == "always":
        ctx.color = True
    elif value == "never" or (value == "auto" and os.environ.get("NO_COLOR")):
        ctx.color = False
    return value


# --- progress: "checked N/TOTAL files" on standard error, on a terminal, after a second ----------


class _Progress:
    def __init__(self) -> None:
        self.started = time.monotonic()
        self.last = 0.0
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.started < 1.0 or (now - self.last < 0.1 and done != total):
            return
        self.last = now
        self.shown = True
        sys.stderr.write(f"\rchecked {done}/{total} files")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _with_progress(action: Callable[[], Any]) -> Any:
    """Run ``action``, drawing progress when standard error is a terminal."""
    if not sys.stderr.isatty():
        return action()
    from complaints.engine.progress import listening

    listener = _Progress()
    try:
        with listening(listener):
            return action()
    finally:
        listener.finish()


def today_in(timezone: str, override: dt.date | None) -> dt.date:
    """Today's date in the organisation's time zone; the only place that reads the clock."""
    if override is not None:
        return override
    return dt.datetime.now(ZoneInfo(timezone)).date()


def fail(message: str) -> NoReturn:
    raise click.ClickException(message)


class DateParam(click.ParamType):  # type: ignore[type-arg]
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        from complaints.cli.prompts import parse_date

        try:
            return parse_date(str(value), "date")
        except UsageMistake as exc:
            self.fail(str(exc).removeprefix("date: "), param, ctx)


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


# --- completion of case ids and policy keys, and list options ----------------------------------


def _complete_case_id(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from complaints.adapters.repository import Repository

    try:
        repository = Repository.open(ctx.params.get("repo"))
    except ComplaintsError:
        return []
    names = (f.rsplit("/", 1)[-1].removesuffix(".yml") for f in repository.case_files() if f.endswith(".yml"))
    return sorted(n for n in names if n.startswith(incomplete.upper()))


def _completer(vocabulary: str) -> Callable[[click.Context, click.Parameter, str], list[str]]:
    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
        from complaints.adapters.repository import Repository
        from complaints.core.vocabulary import terms

        try:
            repository = Repository.open(ctx.params.get("repo"))
        except ComplaintsError:
            return []
        return [t.key for t in terms(repository.policy.raw, vocabulary) if t.key.startswith(incomplete)]

    return complete


def _one_per_option(values: tuple[str, ...], option: str) -> None:
    from complaints.core.vocabulary import LIST_SEPARATORS, split_list

    for value in values:
        if LIST_SEPARATORS.search(value):
            parts = " ".join(f"{option} {p}" for p in split_list(value))
            raise click.BadOptionUsage(option, f"{option} takes one value; repeat {option} for several: {parts}")


@click.group(cls=ComplaintsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="complaints")
@click.option("--color", "--colour", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              callback=_colour_setting, expose_value=False, is_eager=True,
              help="Colour OVERDUE and warnings: auto = on a terminal unless NO_COLOR is set.")
def cli() -> None:
    """Track efficiency complaints (效能投诉) kept as YAML files under cases/.

    Run `complaints COMMAND --help` for a command's options and an example. Exit status,
    in every command: 0 done, 1 problems found or refused, 2 usage error, 130 interrupted.

    Example:

    \b
        complaints list --handler h-zhou
    """


def main() -> None:
    cli(prog_name="complaints")


# --- validate -------------------------------------------------------------------------------


def open_repo(repo: Path | None, no_cache: bool | None = None) -> "Repository":
    """``no_cache``: the command's --no-cache; None when it has none (it then writes nothing
    to the cache)."""
    from complaints.adapters.repository import Repository

    return Repository.open(repo, use_cache=not no_cache, remember=no_cache is False)


# Results per case file are cached by content outside the work tree (cache.py).
no_cache_option = click.option(
    "--no-cache", is_flag=True,
    help="Check every file afresh, neither reading nor writing the result cache (kept in the user's cache folder, or $COMPLAINTS_CACHE_DIR).",
)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--changed-since", metavar="REF", help="Check only case files changed since this git ref (plus the repository-wide rules).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Processes to use (default: one per core).")
@no_cache_option
@repo_option
@today_option
def validate(paths: tuple[Path, ...], changed_since: str | None, fmt: str, jobs: int | None, no_cache: bool, repo: Path | None, today: dt.date | None) -> None:
    """Check case files against the schema, the policy and the lifecycle rules.

    With no PATHS, checks every file under cases/; with --changed-since, only the case files
    changed since that git ref. Ids must be unique across the repository either way. Prints one
    line per problem, FILE:LINE:COLUMN: FIELD: MESSAGE, never the value of a field.
    Exit status: 0 no problems, 1 problems found, 2 usage error.

    Example:

    \b
        complaints validate

    \b
        complaints validate --changed-since origin/main --format json
    """
    from complaints.render.validation import FORMATS
    from complaints.commands.validate import validate as run

    if paths and changed_since:
        raise click.UsageError("give PATHS or --changed-since, not both")
    repository = open_repo(repo, no_cache)
    day = today_in(repository.policy.timezone, today)
    report = _with_progress(lambda: run(repository, day, paths=paths, changed_since=changed_since, jobs=jobs, use_cache=not no_cache))
    click.echo(FORMATS[fmt](report), nl=False)
    sys.exit(0 if report.ok else 1)


# --- deadlines and overdue (time limits, working-day calendar) ---------------------------------

accept_unconfirmed_option = click.option(
    "--accept-unconfirmed",
    is_flag=True,
    help="Compute a year whose official calendar is not known (not in chinesecalendar nor complete in "
    "calendar.yml) provisionally (weekends and statutory holidays), with a warning, even when the policy's "
    "time_limits.unconfirmed_years is error.",
)


@cli.command()
@click.argument("case_id")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--warn-days", type=click.IntRange(min=0), default=None, help="Due soon at this many working days left or fewer (default: the policy's time_limits.warn_days).")
@accept_unconfirmed_option
@repo_option
@today_option
def deadlines(case_id: str, fmt: str, warn_days: int | None, accept_unconfirmed: bool, repo: Path | None, today: dt.date | None) -> None:
    """Show every stage of one case: start, limit, extensions, pauses, due date, completion,
    state and working days late, with the holidays and make-up working days (调休) that moved
    each due date, so it can be checked by hand.

    Exit status: 0 shown, 1 the case is missing or invalid or a date falls in a year whose
    official calendar is not known (see --accept-unconfirmed).

    Example:

    \b
        complaints deadlines XN-20260305-7K3QH --today 2026-04-10

    \b
        complaints deadlines XN-20260305-7K3QH --format json
    """
    from complaints.commands.deadlines import case_report
    from complaints.render.overdue import CASE_FORMATS

    repository = open_repo(repo)
    now = today_in(repository.policy.timezone, None)
    report = case_report(
        repository, case_id, today_in(repository.policy.timezone, today), warn_days=warn_days, accept_unconfirmed=accept_unconfirmed,
        checked_on=now if today is not None and today < now else None,
    )
    for warning in report.warnings:
        click.echo(warning, err=True)
    click.echo(CASE_FORMATS[fmt](report), nl=False)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True)
@click.option("--warn-days", type=click.IntRange(min=0), default=None, help="Due soon at this many working days left or fewer (default: the policy's time_limits.warn_days).")
@click.option("--fail-on-overdue", is_flag=True, help="Exit 1 when any stage is overdue (for CI).")
@click.option("--handler", "handlers", multiple=True, help="Only this handler's stages (a key or label; repeat for several).",
              shell_complete=_completer("handlers"))
@click.option("--department", "departments", multiple=True, help="Only stages of cases this department holds (repeat for several).",
              shell_complete=_completer("departments"))
@accept_unconfirmed_option
@no_cache_option
@repo_option
@today_option
def overdue(fmt: str, warn_days: int | None, fail_on_overdue: bool, handlers: tuple[str, ...], departments: tuple[str, ...],
            accept_unconfirmed: bool, no_cache: bool, repo: Path | None, today: dt.date | None) -> None:  # fmt: skip
    """List every overdue and due-soon stage across the repository, grouped by department and
    handler, worst group first (most overdue stages, then most working days late). Shows ids,
    dates, stage keys and labels only, never text from a case.

    With --today set to a past day, each case is read as it stood that day (later events
    ignored, later cases left out), so a supervisor sees what was late then. A due date in a
    year whose official calendar is not announced yet is marked (provisional).

    Exit status: 0 listed, 1 with --fail-on-overdue when a stage is overdue (or on an error,
    e.g. a date in an unconfirmed year when the policy's time_limits.unconfirmed_years is error),
    2 usage error.

    Example:

    \b
        complaints overdue --today 2026-04-10 --warn-days 3

    \b
        complaints overdue --handler h-zhou --department permits

    \b
        complaints overdue --format csv --fail-on-overdue
    """
    from complaints.commands.overdue import filter_groups, overdue_report
    from complaints.render.overdue import OVERDUE_FORMATS
    from complaints.core.vocabulary import resolve_list

    repository = open_repo(repo, no_cache)
    raw = repository.policy.raw
    _one_per_option(handlers, "--handler")
    _one_per_option(departments, "--department")
    handler_keys = resolve_list(raw, "handlers", handlers, "--handler")
    department_keys = resolve_list(raw, "departments", departments, "--department")
    now = today_in(repository.policy.timezone, None)
    day = today_in(repository.policy.timezone, today)
    report = _with_progress(lambda: overdue_report(
        repository, day, warn_days=warn_days, accept_unconfirmed=accept_unconfirmed,
        checked_on=now if today is not None and today < now else None,
    ))
    report = filter_groups(report, handler_keys, department_keys)
    for warning in report.warnings:
        click.echo(_coloured(warning), err=True)
    text = OVERDUE_FORMATS[fmt](report)
    click.echo(_coloured(text) if fmt == "text" else text, nl=False)
    if fail_on_overdue and report.has_overdue:
        sys.exit(1)


# --- list and show: the cases as a handler reads them ---------------------------------------------

STATE_CHOICES = ("open", "all", *lifecycle.STATES)


@cli.command("list")
@click.option("--handler", "handlers", multiple=True, help="The handler holding the case (a key or label; repeat for several).",
              shell_complete=_completer("handlers"))
@click.option("--department", "departments", multiple=True, help="A department the case is about or that holds it (repeat for several).",
              shell_complete=_completer("departments"))
@click.option("--state", "states", multiple=True, type=click.Choice(STATE_CHOICES), help="open (every state but closed; the default), all, or a lifecycle state (repeat for several).")
@click.option("--stage", "stages", multiple=True, help="A stage running now, e.g. resolve (repeat for several).", shell_complete=_completer("time_limits.stages"))
@click.option("--category", "categories", multiple=True, help="A key or label of the policy's categories (repeat for several).",
              shell_complete=_completer("categories"))
@click.option("--received-from", type=DATE, help="Received on or after this day.")
@click.option("--received-to", type=DATE, help="Received on or before this day.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True)
@accept_unconfirmed_option
@no_cache_option
@repo_option
@today_option
def list_command(handlers: tuple[str, ...], departments: tuple[str, ...], states: tuple[str, ...], stages: tuple[str, ...],
                 categories: tuple[str, ...], received_from: dt.date | None, received_to: dt.date | None, fmt: str,
                 accept_unconfirmed: bool, no_cache: bool, repo: Path | None, today: dt.date | None) -> None:  # fmt: skip
    """List cases, newest first, with their state and the stage due next (most urgent first).

    Open cases only unless --state says otherwise (as `gh issue list` does). Shows ids, dates
    and keys, never text from a case; `complaints show ID` shows one case in full. Exit
    status: 0 listed (also when nothing matches), 2 usage error (an unknown key: the refusal
    lists the valid ones).

    Example:

    \b
        complaints list --handler h-zhou

    \b
        complaints list --department permits --state all --received-from 2026-01-01

    \b
        complaints list --stage resolve --format csv
    """
    from complaints.commands.caselist import CaseFilter, list_cases
    from complaints.render.caselist import LIST_FORMATS
    from complaints.core.vocabulary import resolve_list

    repository = open_repo(repo, no_cache)
    raw = repository.policy.raw
    for values, option in ((handlers, "--handler"), (departments, "--department"), (stages, "--stage"), (categories, "--category")):
        _one_per_option(values, option)
    if received_from and received_to and received_from > received_to:
        raise click.BadOptionUsage("received_from", "--received-from is after --received-to")
    keep = CaseFilter(
        handlers=resolve_list(raw, "handlers", handlers, "--handler"),
        departments=resolve_list(raw, "departments", departments, "--department"),
        states=() if "all" in states else (states or ("open",)),
        stages=resolve_list(raw, "time_limits.stages", stages, "--stage"),
        categories=resolve_list(raw, "categories", categories, "--category"),
        received_from=received_from,
        received_to=received_to,
    )
    day = today_in(repository.policy.timezone, today)
    listing = _with_progress(lambda: list_cases(repository, day, keep, accept_unconfirmed=accept_unconfirmed))
    for warning in listing.warnings:
        click.echo(_coloured(f"warning: {warning}"), err=True)
    text = LIST_FORMATS[fmt](listing)
    click.echo(_coloured(text) if fmt == "text" else text, nl=False)


@cli.command("show")
@click.argument("case_id", metavar="CASE_ID", shell_complete=_complete_case_id)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@accept_unconfirmed_option
@repo_option
@today_option
def show_command(case_id: str, fmt: str, accept_unconfirmed: bool, repo: Path | None, today: dt.date | None) -> None:
    """Show one case as a person reads it: its keys with the policy's labels, the timeline,
    each stage with its due date and state, the suggestions, and what is due next.

    Never shows the contact details (they stay encrypted: `complaints reveal`). Exit status:
    0 shown, 1 no such case or the file is invalid, 2 usage error.

    Example:

    \b
        complaints show XN-20260305-7K3QH

    \b
        complaints show XN-20260305-7K3QH --format json --today 2026-04-10
    """
    from complaints.commands.caselist import show_case
    from complaints.render.caselist import SHOW_FORMATS

    repository = open_repo(repo)
    view = show_case(repository, case_id, today_in(repository.policy.timezone, today), accept_unconfirmed=accept_unconfirmed)
    for warning in view.warnings:
        click.echo(_coloured(f"warning: {warning}"), err=True)
    text = SHOW_FORMATS[fmt](view)
    click.echo(_coloured(text) if fmt == "text" else text, nl=False)


@cli.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion_command(shell: str) -> None:
    """Print the shell script that completes commands, options, case ids and policy keys.

    Load it from your shell's start-up file; completion then reads the repository you are in.

    Example:

    \b
        eval "$(complaints completion bash)"     # in ~/.bashrc

    \b
        complaints completion fish > ~/.config/fish/completions/complaints.fish
    """
    from click.shell_completion import get_completion_class

    completer = get_completion_class(shell)
    assert completer is not None
    click.echo(completer(cli, {}, "complaints", "_COMPLAINTS_COMPLETE").source())


skip_invalid_option = click.option(
    "--skip-invalid",
    is_flag=True,
    help="Go on without the case files that do not pass validation (default: stop, naming them); "
    "says how many were left out and records the count in the output.",
)


def _report_left_out(count: int | None) -> None:
    if count:
        click.echo(f"warning: {count} invalid case file(s) left out (--skip-invalid); run `complaints validate` to see why", err=True)


# --- notify: GitHub issues for overdue stages ----------------------------------------------------


@cli.command()
@click.option("--dry-run", is_flag=True, help="Print the plan (create, update, close) without changing anything on GitHub.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--accept-unconfirmed", is_flag=True, help="Compute a year whose official calendar is not yet announced provisionally, even when the policy says error.")
@skip_invalid_option
@repo_option
@today_option
def notify(dry_run: bool, fmt: str, accept_unconfirmed: bool, skip_invalid: bool, repo: Path | None, today: dt.date | None) -> None:
    """Keep exactly one GitHub issue open for every overdue stage (and, when the policy's
    notify.due_soon_issues is true, every due-soon stage); update it when the lateness changes,
    comment and close it when the stage is done. Safe to re-run.

    Reads GITHUB_TOKEN (needs issues: write), GITHUB_REPOSITORY (owner/name) and
    GITHUB_API_URL (default https://api.github.com). Exit status: 0 done (or planned with
    --dry-run), 1 when something was not done or GitHub refused the run.

    Example:

    \b
        GITHUB_REPOSITORY=example-org/complaints GITHUB_TOKEN=... complaints notify --dry-run

    \b
        complaints notify --format json --today 2026-04-10
    """
    import json
    import os
    import time

    from complaints.adapters.github import DEFAULT_API_URL, GitHubClient
    from complaints.commands.notify import notify_repository, plan_text, plan_to_dict, result_text, result_to_dict
    from complaints.adapters.repository import Repository

    repository = Repository.open(repo)
    day = today_in(repository.policy.timezone, today)
    if day != today_in(repository.policy.timezone, None) and not dry_run:
        # Issues say what is late now; another day's view would open and close them wrongly.
        raise click.UsageError("--today other than today needs --dry-run")
    with GitHubClient(
        os.environ.get("GITHUB_TOKEN", ""),
        os.environ.get("GITHUB_REPOSITORY", ""),
        sleep=time.sleep,
        clock=time.time,
        api_url=os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL,
    ) as client:
        plan, result = notify_repository(
            repository,
            client,
            day,
            server_url=os.environ.get("GITHUB_SERVER_URL"),
            dry_run=dry_run,
            accept_unconfirmed=accept_unconfirmed,
            skip_invalid=skip_invalid,
        )
    _report_left_out(plan.invalid_left_out)
    if fmt == "json":
        payload = {"dry_run": dry_run, "plan": plan_to_dict(plan), "result": result_to_dict(result) if result else None}
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        click.echo(plan_text(plan))
        if result is not None:
            click.echo(result_text(result))
    if result is not None and not result.ok:
        click.echo(f"notify: {len(result.not_done)} action(s) not done; the next run retries them", err=True)
        sys.exit(1)


# --- recording complaints: new, event, reveal, rekey ------------------------------------------

EVENT_COMMANDS = events.EVENT_COMMANDS

# `event` words that edit the case's suggestions (改进建议) rather than its timeline.
SUGGESTION_COMMANDS: dict[str, str] = {"suggest": "add an improvement suggestion", "adopt": "record a suggestion's adoption or reward"}


def _stdin_is_tty() -> bool:
    return sys.stdin.isatty()


def _ask(prompt: str, default: str, hidden: bool) -> str:
    answer: str = click.prompt(prompt, default=default, show_default=bool(default), hide_input=hidden, type=str)
    return answer


def _say(message: str) -> None:
    click.echo(_coloured(message), err=True)


def _confirm_save(lines: list[str]) -> None:
    """The last look before writing; answering no writes nothing (exit 1)."""
    click.echo("")
    for line in lines:
        click.echo(line)
    if not click.confirm("Save?", default=True):
        click.echo("not saved; nothing was written", err=True)
        sys.exit(1)


def _vocab(repository: "Repository", vocabulary: str, value: str | None, option: str) -> str | None:
    from complaints.core.vocabulary import resolve

    return None if value is None else resolve(repository.policy.raw, vocabulary, value, option)


@cli.command("new")
@click.option("--channel", help="How the complaint arrived: a key (or label) of the policy's channels.")
@click.option("--category", help="A key (or label) of the policy's categories.")
@click.option("--department", "departments", multiple=True, help="A department complained about (repeat --department for several).")
@click.option("--priority", help="A key (or label) of the policy's priorities.")
@click.option("--handler", help="The handler in charge (optional): a key of the policy's handlers.")
@click.option("--received", type=DATE, help="The day the complaint arrived (default: today).")
@click.option("--anonymous/--named", default=None, help="Whether the complainant gave their identity.")
@click.option("--contact-file", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="Read the contact details from this file (encrypted in memory; delete the file afterwards).")
@click.option("--contact-stdin", is_flag=True, help="Read the contact details from standard input (encrypted in memory, never echoed).")
@click.option("--summary", help="A short internal summary (optional; no personal data).")
@click.option("--suggestion", "suggestions", multiple=True, help="An improvement suggestion (改进建议) drawn from the complaint, not yet adopted (repeat for several).")
@click.option("--interactive/--no-interactive", default=None, help="Ask for missing fields (default: when standard input is a terminal).")
@click.option("--yes", "-y", is_flag=True, help="Save without asking \"Save? [Y/n]\" after the questions.")
@repo_option
@today_option
def new_case(
    channel: str | None,
    category: str | None,
    departments: tuple[str, ...],
    priority: str | None,
    handler: str | None,
    received: dt.date | None,
    anonymous: bool | None,
    contact_file: Path | None,
    contact_stdin: bool,
    summary: str | None,
    suggestions: tuple[str, ...],
    interactive: bool | None,
    yes: bool,
    repo: Path | None,
    today: dt.date | None,
) -> None:
    """Record a new complaint: write cases/YYYY/ID.yml and print its id, path and receipt code.

    In a terminal it asks for each missing field, showing the policy's keys with their labels
    (a label is accepted where a key is asked), checks every answer as it is typed and asks
    again when one is wrong, then shows a summary and asks "Save? [Y/n]". Scripts give every
    field as an option. Contact details are read from --contact-file or --contact-stdin (or
    typed hidden when asked), encrypted to the keys in recipients.txt in memory, and never
    written or shown in plaintext. The receipt code is printed ONCE: hand it to the
    complainant, who can check the case on the site with it; only a slow hash of it is stored.

    Example:

    \b
        printf 'Name, phone' | complaints new --channel hotline --category delay \\
            --department permits --priority normal --named --contact-stdin

    \b
        complaints new            # asks for everything
    """
    from complaints.cli.prompts import ask_new_case
    from complaints.commands.new import create_case

    repository = open_repo(repo)
    today_date = today_in(repository.policy.timezone, today)
    ask = _stdin_is_tty() and not contact_stdin if interactive is None else interactive
    if contact_file and contact_stdin:
        raise click.UsageError("give --contact-file or --contact-stdin, not both")
    if ask and contact_stdin:
        raise click.UsageError("--contact-stdin reads standard input, so the other fields must be given as options (or use --contact-file)")
    answers = _new_case_options(repository, today_date, channel, category, departments, priority, handler, received, anonymous,
                                summary, suggestions)  # fmt: skip
    missing = answers.missing()
    if missing and not ask:
        raise click.UsageError(f"missing {', '.join(missing)} (or run in a terminal, or with --interactive, to be asked)")
    ask = ask and bool(missing)  # as gh does: with every field given, no questions
    if ask:
        ask_new_case(_ask, _say, repository.policy.raw, answers, today_date, ask_contact=contact_file is None,
                     ask_for_suggestions=not suggestions)  # fmt: skip
    if contact_file is not None:
        answers.contact = contact_file.read_bytes()
    elif contact_stdin:
        answers.contact = sys.stdin.buffer.read()
    assert answers.anonymous is not None
    _warn_before_new(repository, answers.anonymous, answers.contact)
    if ask and not yes:
        _confirm_save(["The new case:", *answers.summary_lines(repository.policy.raw, today_date)])
    created = create_case(repository, _new_case(answers, today_date), answers.contact, today_date)
    click.echo(f"created {created.case_id}")
    click.echo(f"file: {repository.relative(created.path)}")
    click.echo(f"receipt code (shown only now; give it to the complainant): {created.receipt_code}")


def _new_case_options(repository: "Repository", today_date: dt.date, channel: str | None, category: str | None,
                      departments: tuple[str, ...], priority: str | None, handler: str | None, received: dt.date | None,
                      anonymous: bool | None, summary: str | None, suggestions: tuple[str, ...]) -> "NewCaseAnswers":  # fmt: skip
    """The options of `complaints new`, checked before any question, so a wrong one never costs
    typed answers: keys resolved from keys or labels, texts and the date received checked."""
    from complaints.cli.prompts import NewCaseAnswers, check_text
    from complaints.core.vocabulary import resolve_list

    _one_per_option(departments, "--department")
    channel = _vocab(repository, "channels", channel, "--channel")
    category = _vocab(repository, "categories", category, "--category")
    departments = resolve_list(repository.policy.raw, "departments", departments, "--department")
    priority = _vocab(repository, "priorities", priority, "--priority")
    handler = _vocab(repository, "handlers", handler, "--handler")
    for text in (summary, *suggestions):
        if text is not None:
            check_text(text, "--summary" if text is summary else "--suggestion")
    if received is not None and received > today_date:
        raise click.BadParameter(f"{received.isoformat()} is after today ({today_date.isoformat()})", param_hint="--received")
    found_suggestions = tuple({"summary": s, "adopted": False} for s in suggestions)
    return NewCaseAnswers(channel, category, departments, priority, handler, received, anonymous, summary, found_suggestions)


def _new_case(answers: "NewCaseAnswers", today_date: dt.date) -> "NewCase":
    from complaints.commands.new import NewCase

    assert answers.channel is not None and answers.category is not None and answers.priority is not None and answers.anonymous is not None
    return NewCase(answers.channel, answers.category, answers.departments, answers.priority, answers.received or today_date,
                   answers.anonymous, answers.handler, answers.summary, answers.suggestions)  # fmt: skip


def _warn_before_new(repository: "Repository", anonymous: bool, contact: bytes | None) -> None:
    from complaints.adapters.crypto import load_recipients

    if not anonymous and not contact:
        click.echo(_coloured("warning: a named complaint without contact details: nobody can call the complainant back "
                             "(the follow-up stage will still run)"), err=True)  # fmt: skip
    if contact:
        try:
            placeholder = load_recipients(repository.root).placeholder
        except ComplaintsError:
            return  # create_case reports an unusable recipients.txt itself
        if placeholder:
            click.echo(_coloured("warning: recipients.txt still holds the template's PLACEHOLDER key, whose private key nobody has: "
                                 "these contact details can never be decrypted. Put the team's real keys there."), err=True)  # fmt: skip


class EventKind(click.ParamType):  # type: ignore[type-arg]
    """An event word: `accept`, the recorded kind `accepted`, or the Chinese word `受理`."""

    name = "KIND"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from complaints.core.vocabulary import VocabularyError

        if value in SUGGESTION_COMMANDS:
            return str(value)
        try:
            return events.event_command(str(value))
        except VocabularyError:
            self.fail(f"not an event; choose one of: {', '.join([*EVENT_COMMANDS, *SUGGESTION_COMMANDS])}", param, ctx)

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(word) for word in [*EVENT_COMMANDS, *SUGGESTION_COMMANDS] if word.startswith(incomplete)]


def _event_vocabularies(repository: "Repository", kind: str, given: dict[str, Any]) -> dict[str, Any]:
    """Options naming vocabulary keys, resolved from a key or a label (refusal: exit 2)."""
    from complaints.core.vocabulary import resolve, resolve_list

    out = dict(given)
    for name, value in given.items():
        vocabulary = events.field_vocabulary(kind, name)
        if vocabulary is None or value in (None, (), ""):
            continue
        if isinstance(value, tuple):
            out[name] = resolve_list(repository.policy.raw, vocabulary, value, events.option_name(name))
        else:
            out[name] = resolve(repository.policy.raw, vocabulary, str(value), events.option_name(name))
    return out


def _holding(repository: "Repository", case_id: str, today_date: dt.date) -> str | None:
    """The department holding the case now, offered as a transfer's --from."""
    from complaints.core.lifecycle import holding
    from complaints.engine.scan import read_case

    with contextlib.suppress(ComplaintsError):
        return holding(list(read_case(repository, case_id, today_date)[1].get("timeline") or ()))[0]
    return None


def _listing_event_words(command: Callable[..., None]) -> Callable[..., None]:
    """The event words in the command's help, as complaints.core.events lists them."""
    command.__doc__ = (command.__doc__ or "").replace("EVENT_WORDS", events.command_words())
    return command


def _event_field_options(command: Callable[..., None]) -> Callable[..., None]:
    """One option per event field, as complaints.core.events describes it."""
    for spec in reversed(events.EVENT_OPTIONS):
        vocabulary = events.completion_vocabulary(spec.field)
        also = (("suggest", "internal summary"),) if spec.field == "summary" else ()
        command = click.option(
            spec.option, spec.dest, help=events.option_help(spec.field, also), multiple=events.many(spec.field),
            type=click.IntRange(*spec.bounds) if spec.bounds else None,
            shell_complete=_completer(vocabulary) if vocabulary else None,
        )(command)  # fmt: skip
    return command


@cli.command("event")
@click.argument("case_id", metavar="CASE_ID", shell_complete=_complete_case_id)
@click.argument("command", metavar="KIND", type=EventKind(), required=False)
@click.option("--date", "date", type=DATE, help="The day it happened (default: today).")
@_event_field_options
@click.option("--suggestion", "suggestion_number", type=click.IntRange(min=1), help="adopt: which suggestion (1 for the first, as `complaints show` numbers them).")
@click.option("--adopted/--not-adopted", default=None, help="suggest, adopt: whether the suggestion was adopted (default for adopt: adopted).")
@click.option("--rewarded", is_flag=True, default=None, help="suggest, adopt: the complainant was rewarded for it (needs --adopted).")
@click.option("--interactive/--no-interactive", default=None, help="Ask for KIND and missing fields (default: when standard input is a terminal).")
@click.option("--yes", "-y", is_flag=True, help="Save without asking \"Save? [Y/n]\" after the questions.")
@repo_option
@today_option
@_listing_event_words
def event_command(case_id: str, command: str | None, date: dt.date | None, suggestion_number: int | None, adopted: bool | None,
                  rewarded: bool | None, interactive: bool | None, yes: bool, repo: Path | None, today: dt.date | None,
                  **options: Any) -> None:  # fmt: skip
    """Append a timeline event to a case, in place and atomically, then say what is due next.

    KIND is one of: EVENT_WORDS; the kind as the file records it (accepted, not_accepted...) and the
    Chinese word (受理, 办结...) work too. `suggest` adds an improvement suggestion (改进建议)
    and `adopt` records that suggestion N was adopted (and --rewarded). Keys may be given as
    their labels (--satisfaction 满意). In a terminal, KIND and missing fields are asked for,
    each checked as it is typed, then "Save? [Y/n]". Refuses an event the case's state does
    not allow, with the reason, and anything that would not validate. Only new lines are
    added: comments and layout stay as they were.

    Example:

    \b
        complaints event XN-20260305-7K3QH accept

    \b
        complaints event XN-20260305-7K3QH transfer --from permits --to registry \\
            --reason "Files are at the registry"

    \b
        complaints event XN-20260305-7K3QH resolve --outcome substantiated \\
            --measure correction --measure talk

    \b
        complaints event XN-20260305-7K3QH suggest --summary "Open a lunchtime counter"
    """
    from complaints.commands.caselist import show_case
    from complaints.render.caselist import next_due_text
    from complaints.cli.prompts import check_text, shown, summary_lines
    from complaints.commands.event import EventFieldError, add_suggestion, append_event, build_event, mark_suggestion

    repository = open_repo(repo)
    today_date = today_in(repository.policy.timezone, today)
    ask = _stdin_is_tty() if interactive is None else interactive
    repository.find_case(case_id)  # an unknown id is said before any question
    # The event's fields, by field name (the options are made from complaints.core.events).
    given: dict[str, Any] = {spec.field: options[spec.dest] for spec in events.EVENT_OPTIONS}
    reason, summary, note = given["reason"], given["summary"], given["note"]
    for spec in events.EVENT_OPTIONS:
        if events.many(spec.field):
            _one_per_option(given[spec.field], spec.option)
    if date is not None and date > today_date:
        raise click.BadParameter(f"{date.isoformat()} is after today ({today_date.isoformat()})", param_hint="--date")
    kind_asked = command is None
    if command is None:
        if not ask:
            raise click.UsageError("missing KIND (or run in a terminal, or with --interactive, to be asked)")
        from complaints.cli.prompts import ask_until

        choices = ", ".join([*EVENT_COMMANDS, *SUGGESTION_COMMANDS])
        allowed = _allowed_now(repository, case_id, today_date)

        def kind_check(typed: str) -> str:
            word = typed.strip() if typed.strip() in SUGGESTION_COMMANDS else events.event_command(typed)
            allowed(word)
            return word

        command = ask_until(_ask, _say, f"Event [{choices}]", kind_check)
        assert command is not None
    reason_is_text = events.field_vocabulary(EVENT_COMMANDS.get(command), "reason") is None
    for text, option in ((reason if reason_is_text else None, "--reason"), (summary, "--summary"), (note, "--note")):
        if text is not None:
            check_text(text, option)

    if command in SUGGESTION_COMMANDS:
        path = _suggestion_event(repository, case_id, command, summary, suggestion_number, adopted, rewarded, ask, yes, today_date,
                                 add_suggestion, mark_suggestion)  # fmt: skip
        click.echo(f"recorded {command} in {repository.relative(path)}")
        return
    if suggestion_number is not None or adopted is not None or rewarded:
        raise click.UsageError(f"'{command}' does not take --suggestion, --adopted or --rewarded (they go with suggest and adopt)")
    kind = EVENT_COMMANDS[command]
    given = _event_vocabularies(repository, kind, given)
    missing = [name for name in events.EVENTS[kind].required if given.get(name) in (None, (), "")]
    asked = ask and (kind_asked or bool(missing))
    if asked:
        from complaints.cli.prompts import ask_event_fields

        held = _holding(repository, case_id, today_date) if kind == "transferred" else None
        given, date = ask_event_fields(_ask, _say, repository.policy.raw, command, kind, given, today_date, date,
                                       everything=kind_asked, held=held)  # fmt: skip
    try:
        event = build_event(command, date or today_date, given)
    except EventFieldError as exc:
        raise click.UsageError(str(exc)) from None
    _warn_before_event(repository, case_id, kind, today_date)
    if asked:
        _refuse_before_save(repository, case_id, event, today_date)
    if asked and not yes:
        fields = [(name, shown(repository.policy.raw, vocab, value) if (vocab := events.field_vocabulary(kind, name)) else str(value))
                  for name, value in event.items()]  # fmt: skip
        _confirm_save([f"Add to {case_id}:", *summary_lines(fields)])
    path = append_event(repository, case_id, event, today_date)
    click.echo(f"recorded {event['kind']} on {event['date']} in {repository.relative(path)}")
    try:
        view = show_case(repository, case_id, today_date)
    except ComplaintsError as exc:  # e.g. next year's calendar not announced: say so, the event is recorded
        click.echo(f"warning: what is due next cannot be computed: {exc}", err=True)
        return
    click.echo(_coloured(next_due_text(view)))


def _suggestion_event(repository: "Repository", case_id: str, command: str, summary: str | None, number: int | None,
                      adopted: bool | None, rewarded: bool | None, ask: bool, yes: bool, today_date: dt.date,
                      add: Any, mark: Any) -> Path:  # fmt: skip
    from complaints.cli.prompts import ask_until, check_text, yes_no

    if rewarded and adopted is False:
        raise click.UsageError("--rewarded needs --adopted: only an adopted suggestion is rewarded")
    if command == "suggest":
        if number is not None:
            raise click.UsageError("suggest adds a new suggestion: drop --suggestion (it goes with adopt)")
        if summary is None and ask:
            summary = ask_until(_ask, _say, "Suggestion (改进建议; internal, no personal data)",
                                lambda t: check_text(t, "suggestion") or _raise(UsageMistake("suggestion: give the text")))  # fmt: skip
            if adopted is None:
                adopted = ask_until(_ask, _say, "Adopted? [y/N]", lambda t: yes_no(t, False))
            if adopted and rewarded is None:
                rewarded = ask_until(_ask, _say, "Rewarded? [y/N]", lambda t: yes_no(t, False))
        if summary is None:
            raise click.UsageError("'suggest' needs --summary TEXT")
        if ask and not yes:
            _confirm_save([f"Add a suggestion to {case_id}:", f"  summary   {summary}", f"  adopted   {'yes' if adopted else 'no'}",
                           f"  rewarded  {'yes' if rewarded else 'no'}"])  # fmt: skip
        result: Path = add(repository, case_id, {"summary": summary, "adopted": bool(adopted), "rewarded": bool(rewarded)}, today_date)
        return result
    if number is None:
        raise click.UsageError("'adopt' needs --suggestion N (1 for the first, as `complaints show` numbers them)")
    if summary is not None:
        raise click.UsageError("'adopt' does not take --summary (it marks an existing suggestion)")
    result = mark(repository, case_id, number, today_date, adopted=adopted is not False, rewarded=bool(rewarded))
    return result


def _allowed_now(repository: "Repository", case_id: str, today_date: dt.date) -> Callable[[str], None]:
    """A check that the case's state allows an event word, so that a question about an
    event that cannot be recorded is never asked (the writer checks again before writing)."""
    from complaints.core.lifecycle import transition_problem
    from complaints.engine.scan import read_case

    try:
        _path, case = read_case(repository, case_id, today_date)
    except ComplaintsError:
        return lambda word: None  # the writer names what is wrong with the file
    timeline = list(case.get("timeline") or ())

    def check(word: str) -> None:
        kind = EVENT_COMMANDS.get(word)
        if kind is None or kind == "transferred":  # a transfer's check needs its --from
            return
        reason = transition_problem(timeline, {"kind": kind})
        if reason is not None:
            raise UsageMistake(f"cannot record '{word}' now: {reason}")

    return check


def _refuse_before_save(repository: "Repository", case_id: str, event: dict[str, Any], today_date: dt.date) -> None:
    """The writer's own lifecycle check, before "Save?" rather than after it."""
    from complaints.errors import TransitionError
    from complaints.core.lifecycle import transition_problem
    from complaints.engine.scan import read_case

    try:
        path, case = read_case(repository, case_id, today_date)
    except ComplaintsError:
        return  # append_event names what is wrong with the file
    reason = transition_problem(list(case.get("timeline") or ()), event)
    if reason is not None:
        raise TransitionError(f"{path}: cannot record '{event.get('kind')}': {reason}")


def _raise(exc: Exception) -> Any:
    raise exc


def _warn_before_event(repository: "Repository", case_id: str, kind: str, today_date: dt.date) -> None:
    if kind != "followed_up":
        return
    from complaints.engine.scan import read_case

    try:
        _path, case = read_case(repository, case_id, today_date)
    except ComplaintsError:
        return  # append_event says what is wrong with the file
    complainant = case.get("complainant") or {}
    if complainant.get("anonymous") is True:
        click.echo(_coloured("warning: a follow-up (回访) on an anonymous case: the complainant cannot be reached, "
                             "so record only what was learnt by other means"), err=True)  # fmt: skip


identity_option = click.option(
    "--identity",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    envvar="COMPLAINTS_AGE_IDENTITY",
    show_envvar=True,
    help="Your age private key file (AGE-SECRET-KEY-1..., as made by age-keygen).",
)


@cli.command("reveal")
@click.argument("case_id", metavar="CASE_ID")
@identity_option
@click.option("--show", is_flag=True, help="Print the contact details on standard output.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write them to this new file (mode 600, outside the repository) instead.")
@repo_option
def reveal(case_id: str, identity: Path | None, show: bool, out: Path | None, repo: Path | None) -> None:
    """Decrypt a case's contact details with your private key.

    Nothing is shown unless asked: give --show to print them, or --out FILE to write them to a
    new file only you can read (never inside the repository). The key comes from --identity or
    the COMPLAINTS_AGE_IDENTITY environment variable.

    Example:

    \b
        complaints reveal XN-20260305-7K3QH --identity ~/.config/complaints/key.txt --show
    """
    from complaints.adapters.crypto import load_identities
    from complaints.commands.reveal import reveal_contact, write_private_file

    if show == (out is not None):
        raise click.UsageError("say where the decrypted contact details go: --show (print them) or --out FILE")
    if identity is None:
        raise click.UsageError("give --identity PATH (or set COMPLAINTS_AGE_IDENTITY) to your age private key file")
    repository = open_repo(repo)
    plaintext = reveal_contact(repository, case_id, load_identities(identity))
    if out is not None:
        write_private_file(out, plaintext, repository.root)
        click.echo(f"wrote the contact details of {case_id} to {out}", err=True)
    else:
        click.echo(plaintext.decode("utf-8", errors="replace"), nl=not plaintext.endswith(b"\n"))


@cli.command("rekey")
@identity_option
@click.option("--dry-run", is_flag=True, help="Say which files would be re-encrypted (and which your key cannot open); write nothing.")
@repo_option
@today_option
def rekey(identity: Path | None, dry_run: bool, repo: Path | None, today: dt.date | None) -> None:
    """Re-encrypt every case's contact details to the keys now in recipients.txt.

    Run it after someone joins or leaves the handling team (edit recipients.txt first), then
    commit. Each file is decrypted with your key and rewritten atomically; only the ciphertext
    lines change. A file this command already encrypted to exactly the current keys is left
    alone, so a second run changes nothing. Files your key cannot open are listed and left as
    they are (exit 1).

    Example:

    \b
        complaints rekey --dry-run --identity ~/.config/complaints/key.txt

    \b
        complaints rekey --identity ~/.config/complaints/key.txt
    """
    from complaints.adapters.crypto import load_identities
    from complaints.commands.rekey import rekey as run

    if identity is None:
        raise click.UsageError("give --identity PATH (or set COMPLAINTS_AGE_IDENTITY) to your age private key file")
    repository = open_repo(repo)
    from complaints.adapters.crypto import load_recipients

    if load_recipients(repository.root).placeholder:
        click.echo(_coloured("warning: recipients.txt still holds the template's PLACEHOLDER key, whose private key nobody has: "
                             "contact details encrypted to it can never be decrypted. Put the team's real keys there first."), err=True)  # fmt: skip
    report = run(repository, load_identities(identity), today_in(repository.policy.timezone, today), dry_run=dry_run)
    for failure in report.failed:
        click.echo(f"not re-encrypted: {failure}", err=True)
    if dry_run:
        for path in report.rekeyed:
            click.echo(f"would re-encrypt {path}")
    verb = "would re-encrypt" if dry_run else "re-encrypted"
    click.echo(f"{verb} {len(report.rekeyed)} case(s); {len(report.skipped)} without contact details or sample; "
               f"{len(report.current)} already encrypted to the current keys; {len(report.failed)} failed")  # fmt: skip
    sys.exit(1 if report.failed else 0)


@cli.command("import")
@click.argument("source", metavar="FILE|-")
@identity_option
@click.option("--received", type=DATE, help="The day the submission arrived (default: today).")
@click.option("--priority", help="A key of the policy's priorities (default: the first one).")
@click.option("--handler", help="The handler in charge (optional): a key of the policy's handlers.")
@click.option("--summary", help="A short internal summary written by you (optional; no personal data).")
@click.option("--yes", "assume_yes", is_flag=True, help="Record without asking (after showing the submission).")
@click.option("--review", "review_only", is_flag=True, help="Only show the submission; write nothing.")
@repo_option
@today_option
def import_command(source: str, identity: Path | None, received: dt.date | None, priority: str | None, handler: str | None,
                   summary: str | None, assume_yes: bool, review_only: bool, repo: Path | None, today: dt.date | None) -> None:  # fmt: skip
    """Record a complaint sent from the site's online form (an armoured age ciphertext).

    Decrypts FILE (or standard input, `-`) with your private key, checks it against
    schema/submission.schema.json and the policy, shows it, and records the case as `new`
    does: its channel, category, departments, anonymous or named, the contact details
    encrypted again to the keys in recipients.txt, and the receipt hash made in the
    complainant's browser (they already hold the code). Refuses a submission imported before,
    and anything damaged, not addressed to your key or malformed; nothing is written then.
    The complainant's own text is shown for review but never written to the case: write
    --summary yourself.

    Example:

    \b
        complaints import submission.age --identity ~/.config/complaints/key.txt --review
        complaints import submission.age --identity ~/.config/complaints/key.txt \\
            --summary "Licence change unanswered" --yes
    """
    from complaints.adapters.crypto import load_identities
    from complaints.commands.intake import read_submission, record_submission, review_text

    if assume_yes and review_only:
        raise click.UsageError("give --yes (record) or --review (only show), not both")
    if identity is None:
        raise click.UsageError("give --identity PATH (or set COMPLAINTS_AGE_IDENTITY) to your age private key file")
    reading_stdin = source == "-"
    if not (assume_yes or review_only) and (reading_stdin or not _stdin_is_tty()):
        raise click.UsageError("give --yes to record it, or --review to only show it (no terminal to ask in)")
    repository = open_repo(repo)
    today_date = today_in(repository.policy.timezone, today)
    priority = _vocab(repository, "priorities", priority, "--priority")
    handler = _vocab(repository, "handlers", handler, "--handler")
    if reading_stdin:
        name, data = "standard input", sys.stdin.buffer.read()
    else:
        name = source
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise click.UsageError(f"{source}: cannot be read ({type(exc).__name__})") from None
    submission = read_submission(repository, data, name, load_identities(identity))
    click.echo(review_text(submission, repository.policy))
    if review_only:
        click.echo("not recorded (--review)", err=True)
        return
    if not assume_yes and not click.confirm("Record this complaint?", default=False):
        click.echo("not recorded", err=True)
        sys.exit(1)
    imported = record_submission(repository, submission, received or today_date, today_date, priority, handler, summary)
    if imported.placeholder_recipients:
        click.echo("warning: recipients.txt still holds the template's PLACEHOLDER key: these contact details can never be decrypted.", err=True)
    click.echo(f"created {imported.case_id}")
    click.echo(f"file: {repository.relative(imported.path)}")
    click.echo("receipt code: the complainant already holds it (the form showed it); the case keeps its hash")


@cli.command("keygen")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The file to write your private key to (created with mode 600; never inside a repository).")
def keygen(out: Path) -> None:
    """Make an age key pair for a handler (no need to install age).

    Writes the private key to --out, readable only by you, refusing to overwrite a file or to
    write inside a repository; prints the public key and the line to add to recipients.txt.
    Keep the file private and backed up: without it, contact details encrypted to you stay
    closed. `age-keygen -o PATH` makes an equivalent file.

    Example:

        complaints keygen --out ~/.config/complaints/key.txt
    """
    from complaints.commands.keygen import make_key

    created = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    key = make_key(out, created=created)
    click.echo(f"wrote your private key to {key.path} (mode 600); keep it private and backed up")
    click.echo(f"public key: {key.public_key}")
    click.echo("add this line to recipients.txt, commit it, then run `complaints rekey` if cases already hold contact details:")
    click.echo(key.recipients_line)


@cli.command("forms")
@click.option("--check", is_flag=True, help="Change nothing; exit 1 when a form differs from what policy.yml gives (for CI).")
@repo_option
def forms(check: bool, repo: Path | None) -> None:
    """Write the GitHub forms from policy.yml: the staff issue form that logs an arriving
    complaint (.github/ISSUE_TEMPLATE/complaint.yml) and the pull-request template
    (.github/PULL_REQUEST_TEMPLATE.md). Run it after changing the channels, categories,
    departments or priorities (or the id prefix), and commit the result.

    Exit status: 0 up to date (or written), 1 with --check when a form is stale.

    Example:

        complaints forms

        complaints forms --check
    """
    from complaints.commands.forms import write_forms

    repository = open_repo(repo)
    result = write_forms(repository.root, repository.policy, check=check)
    if check:
        for rel in result.stale:
            click.echo(f"{rel}: stale; run `complaints forms` and commit the result", err=True)
        click.echo("forms: up to date" if not result.stale else f"forms: {len(result.stale)} stale")
        sys.exit(1 if result.stale else 0)
    for rel in result.written:
        click.echo(f"wrote {rel}")
    if not result.written:
        click.echo("forms: up to date")


# --- stats: aggregate statistics with disclosure control --------------------------------------


def _period(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    from complaints.core.stats.periods import Period

    if value is None:
        return None
    try:
        return Period.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@cli.command("stats")
@click.option("--period", callback=_period, default=None, metavar="PERIOD",
              help="A month YYYY-MM, a quarter YYYY-Qn or a year YYYY. Default: the year of --today.")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "markdown", "datapackage"]), default="json", show_default=True,
              help="json follows schema/stats.schema.json; csv is open data (UTF-8 with BOM); markdown is the site page; "
                   "datapackage writes a Frictionless Data Package (one CSV per period) into --out.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Language of the markdown page.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write stats-PERIOD.EXT into this folder instead of printing.")
@click.option("--accept-unconfirmed", is_flag=True, help="Compute a year whose official calendar is not yet announced provisionally, even when the policy says error.")
@skip_invalid_option
@no_cache_option
@repo_option
@today_option
def stats_command(period: Any, fmt: str, lang: str, out_dir: Path | None, accept_unconfirmed: bool, skip_invalid: bool, no_cache: bool,
                  repo: Path | None, today: dt.date | None) -> None:
    """Publishable statistics: volumes, the 三率, on-time rates, working days, backlog and more.

    Counts only valid cases, by the month they were received, as of --today. Small counts
    (1 <= n < publication.threshold in policy.yml) are withheld together with enough other
    cells that none can be recovered, except organisation-wide rates over at least
    publication.min_base cases; a linear-programming audit of every relation a reader can use
    must pass, and everything written is scanned for personal data first: nothing is written
    when either fails. Each output names the formula version,
    the data's commit and the generation date.

    Example:

    \b
        complaints stats --period 2026-Q1 --format markdown --out stats-out --today 2026-04-10
    """
    from complaints.commands.stats import compute
    from complaints.render.stats import render, write

    ctx = click.get_current_context()
    if fmt != "markdown" and ctx.get_parameter_source("lang") == click.core.ParameterSource.COMMANDLINE:
        raise click.BadOptionUsage("lang", "--lang applies to --format markdown only (json and csv carry both languages' labels or none)")
    if fmt == "datapackage" and out_dir is None:
        raise click.UsageError("--format datapackage writes a folder: give --out DIR")
    repository = open_repo(repo, no_cache)
    if out_dir is not None:
        from complaints.adapters.outdir import check_output_folder

        check_output_folder(out_dir, repository.root)  # before any work: a refused --out changes nothing
    day = today_in(repository.policy.timezone, today)
    report = _with_progress(lambda: compute(repository, period, day, accept_unconfirmed=accept_unconfirmed, skip_invalid=skip_invalid))
    _report_left_out(report.invalid_left_out)
    if fmt == "datapackage" and out_dir is not None:
        from complaints.render.datapackage import write_package

        path = write_package(report, out_dir)
        click.echo(f"wrote {path} ({report.suppressed_cells} cell(s) withheld)")
    elif out_dir is None:
        click.echo(render(report, fmt, lang), nl=False)
    else:
        path = write(report, fmt, out_dir, lang, repo_root=repository.root)
        click.echo(f"wrote {path} ({report.suppressed_cells} cell(s) withheld)")


# --- site: the published site with mkdocs-material ---------------------------------------------


@cli.group("site")
def site_group() -> None:
    """Build or preview the published site: how to complain, the process, the time limits and
    the statistics, in Chinese and English.

    Example:

    \b
        complaints site build --today 2026-05-05
    """


@site_group.command("build")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Build into this folder (default: public/ in the repository; kept out of git).")
@click.option("--strict/--no-strict", default=True, show_default=True, help="Fail on any MkDocs warning (broken link, missing anchor...).")
@click.option("--period", default=None, metavar="YYYY|YYYY-Qn|YYYY-MM", help="Statistics period shown (default: the year to date).")
@click.option("--site-url", default=None, metavar="URL", help="Where the site will be published, e.g. https://example-org.github.io/complaints/ (for the language links, the 404 page and the sitemap). Default: the policy's organisation.site_url, else the GitHub Pages address of its repository_url.")
@skip_invalid_option
@repo_option
@today_option
def site_build(out_dir: Path | None, strict: bool, period: str | None, site_url: str | None, skip_invalid: bool, repo: Path | None,
               today: dt.date | None) -> None:
    """Generate the site's tables, charts and downloads from policy.yml and the statistics,
    then build the site with MkDocs into a folder ready to publish as static files.

    Every number on the site comes from the policy file or from `complaints stats` as of
    --today; no page requests anything from another host.

    Example:

    \b
        complaints site build --out public --today 2026-05-05
    """
    from complaints.render.site import DEFAULT_OUT, build_site, published_url

    repository = open_repo(repo)
    site_url = site_url or published_url(repository.policy)
    result = build_site(
        repository.root,
        out_dir if out_dir is not None else repository.root / DEFAULT_OUT,
        today_in(repository.policy.timezone, today),
        strict=strict,
        period=period,
        site_url=site_url,
        skip_invalid=skip_invalid,
    )
    _report_left_out(result.invalid_left_out)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"built {result.pages} page(s) into {result.out} (statistics {result.stats_period or 'none'})")


@site_group.command("serve")
@click.option("--dev-addr", default="127.0.0.1:8000", show_default=True, metavar="HOST:PORT", help="Address to serve on.")
@click.option("--period", default=None, metavar="YYYY|YYYY-Qn|YYYY-MM", help="Statistics period shown (default: the year to date).")
@repo_option
@today_option
def site_serve(dev_addr: str, period: str | None, repo: Path | None, today: dt.date | None) -> None:
    """Generate the site, then serve it locally, rebuilding and reloading the browser when a
    page under site/ changes (restart to pick up changes to policy.yml or the cases).

    Example:

    \b
        complaints site serve --dev-addr 127.0.0.1:8000
    """
    from complaints.render.site import serve_site

    repository = open_repo(repo)
    host, _, port = dev_addr.rpartition(":")
    click.echo(f"serving the site at http://{host or '127.0.0.1'}:{port}/ once it is generated (Ctrl-C to stop)", err=True)
    serve_site(repository.root, today_in(repository.policy.timezone, today), dev_addr, period)
