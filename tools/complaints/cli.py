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
from .errors import ComplaintsError, UsageMistake

if TYPE_CHECKING:
    from .repository import Repository


class ComplaintsGroup(click.Group):
    """Converts library errors into Click errors at one boundary, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageMistake as exc:
            raise click.UsageError(str(exc), ctx) from None
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


class DateParam(click.ParamType):  # type: ignore[type-arg]
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


def open_repo(repo: Path | None, no_cache: bool = False) -> "Repository":
    from .repository import Repository

    repository = Repository.open(repo)
    return repository.without_cache() if no_cache else repository


# Results per case file are cached by content in .cache/complaints/ (issue 8, cache.py).
no_cache_option = click.option(
    "--no-cache", is_flag=True, help="Check every file afresh, neither reading nor writing the result cache in .cache/complaints/."
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

        complaints validate

        complaints validate --changed-since origin/main --format json
    """
    from .reporter import FORMATS
    from .validate import validate as run

    if paths and changed_since:
        raise click.UsageError("give PATHS or --changed-since, not both")
    repository = open_repo(repo)
    report = run(
        repository, today_in(repository.policy.timezone, today), paths=paths, changed_since=changed_since, jobs=jobs, use_cache=not no_cache
    )
    click.echo(FORMATS[fmt](report), nl=False)
    sys.exit(0 if report.ok else 1)


# --- deadlines and overdue (time limits, working-day calendar) ---------------------------------

accept_unconfirmed_option = click.option(
    "--accept-unconfirmed",
    is_flag=True,
    help="Take a year whose official calendar is not known (not in chinesecalendar nor complete in "
    "calendar.yml) as plain Monday-to-Friday weeks, with a warning, instead of stopping.",
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

        complaints deadlines XN-20260305-7K3QH --today 2026-04-10

        complaints deadlines XN-20260305-7K3QH --format json
    """
    from .deadlines import case_report
    from .overdue import CASE_FORMATS

    repository = open_repo(repo)
    report = case_report(
        repository, case_id, today_in(repository.policy.timezone, today), warn_days=warn_days, accept_unconfirmed=accept_unconfirmed
    )
    for warning in report.warnings:
        click.echo(warning, err=True)
    click.echo(CASE_FORMATS[fmt](report), nl=False)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True)
@click.option("--warn-days", type=click.IntRange(min=0), default=None, help="Due soon at this many working days left or fewer (default: the policy's time_limits.warn_days).")
@click.option("--fail-on-overdue", is_flag=True, help="Exit 1 when any stage is overdue (for CI).")
@accept_unconfirmed_option
@no_cache_option
@repo_option
@today_option
def overdue(fmt: str, warn_days: int | None, fail_on_overdue: bool, accept_unconfirmed: bool, no_cache: bool, repo: Path | None, today: dt.date | None) -> None:
    """List every overdue and due-soon stage across the repository, grouped by department and
    handler. Shows ids, dates, stage keys and labels only, never text from a case.

    Exit status: 0 listed, 1 with --fail-on-overdue when a stage is overdue (or on an error,
    e.g. a date in a year whose official calendar is not known).

    Example:

        complaints overdue --today 2026-04-10 --warn-days 3

        complaints overdue --format csv --fail-on-overdue
    """
    from .overdue import OVERDUE_FORMATS, overdue_report

    repository = open_repo(repo, no_cache)
    report = overdue_report(
        repository, today_in(repository.policy.timezone, today), warn_days=warn_days, accept_unconfirmed=accept_unconfirmed
    )
    for warning in report.warnings:
        click.echo(warning, err=True)
    click.echo(OVERDUE_FORMATS[fmt](report), nl=False)
    if fail_on_overdue and report.has_overdue:
        sys.exit(1)


skip_invalid_option = click.option(
    "--skip-invalid",
    is_flag=True,
    help="Go on without the case files that do not pass validation (default: stop, naming them); "
    "says how many were left out and records the count in the output.",
)


def _report_left_out(count: int | None) -> None:
    if count:
        click.echo(f"warning: {count} invalid case file(s) left out (--skip-invalid); run `complaints validate` to see why", err=True)


# --- notify (GitHub issues for overdue stages; area of issue 4) --------------------------------


@cli.command()
@click.option("--dry-run", is_flag=True, help="Print the plan (create, update, close) without changing anything on GitHub.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--accept-unconfirmed", is_flag=True, help="Count working days in a year whose official calendar is not yet announced.")
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

        GITHUB_REPOSITORY=example-org/complaints GITHUB_TOKEN=... complaints notify --dry-run

        complaints notify --format json --today 2026-04-10
    """
    import json
    import os
    import time

    from .github import DEFAULT_API_URL, GitHubClient
    from .notify import notify_repository, plan_text, plan_to_dict, result_text, result_to_dict
    from .repository import Repository

    repository = Repository.open(repo)
    day = today_in(repository.policy.timezone, today)
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


# --- recording complaints: new, event, reveal, rekey (issue 7) ------------------------------

from .writer import EVENT_COMMANDS  # noqa: E402  (a light import: the KIND choices of `event`)


def _vocab_choice(repository: "Repository", vocabulary: str) -> click.Choice[str]:
    keys = list(repository.policy.raw.get(vocabulary) or {})
    return click.Choice(keys)


def _checked(value: str | None, choice: click.Choice[str], option: str) -> str | None:
    if value is None:
        return None
    try:
        return str(choice.convert(value, None, None))
    except click.BadParameter:
        raise click.BadOptionUsage(option, f"{option}: {value!r} is not one of: {', '.join(map(str, choice.choices))}") from None


def _stdin_is_tty() -> bool:
    return sys.stdin.isatty()


@cli.command("new")
@click.option("--channel", help="How the complaint arrived: a key of the policy's channels.")
@click.option("--category", help="A key of the policy's categories.")
@click.option("--department", "departments", multiple=True, help="A department complained about (repeat for several).")
@click.option("--priority", help="A key of the policy's priorities.")
@click.option("--handler", help="The handler in charge (optional): a key of the policy's handlers.")
@click.option("--received", type=DATE, help="The day the complaint arrived (default: today).")
@click.option("--anonymous/--named", default=None, help="Whether the complainant gave their identity.")
@click.option("--contact-file", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="Read the contact details from this file (encrypted in memory; delete the file afterwards).")
@click.option("--contact-stdin", is_flag=True, help="Read the contact details from standard input (encrypted in memory, never echoed).")
@click.option("--summary", help="A short internal summary (optional; no personal data).")
@click.option("--interactive/--no-interactive", default=None, help="Ask for missing fields (default: when standard input is a terminal).")
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
    interactive: bool | None,
    repo: Path | None,
    today: dt.date | None,
) -> None:
    """Record a new complaint: write cases/YYYY/ID.yml and print its id, path and receipt code.

    Asks for each field with the policy's choices, or takes them all as options (for
    scripts). Contact details are read from --contact-file or --contact-stdin (or typed
    hidden when asked), encrypted to the keys in recipients.txt in memory, and never written
    or shown in plaintext. The receipt code is printed ONCE: hand it to the complainant, who
    can check the case on the site with it; only a slow hash of it is stored.

    Example:

    \b
        printf 'Name, phone' | complaints new --channel hotline --category delay \\
            --department permits --priority normal --named --contact-stdin

        complaints new            # asks for everything
    """
    from .writer import NewCase, create_case

    repository = open_repo(repo)
    today_date = today_in(repository.policy.timezone, today)
    ask = _stdin_is_tty() and not contact_stdin if interactive is None else interactive
    if contact_file and contact_stdin:
        raise click.UsageError("give --contact-file or --contact-stdin, not both")
    if ask and contact_stdin:
        raise click.UsageError("--contact-stdin reads standard input, so the other fields must be given as options (or use --contact-file)")
    channels = _vocab_choice(repository, "channels")
    categories = _vocab_choice(repository, "categories")
    department_choice = _vocab_choice(repository, "departments")
    priorities = _vocab_choice(repository, "priorities")
    handlers = _vocab_choice(repository, "handlers")
    channel = _checked(channel, channels, "--channel")
    category = _checked(category, categories, "--category")
    departments = tuple(str(_checked(d, department_choice, "--department")) for d in departments)
    priority = _checked(priority, priorities, "--priority")
    handler = _checked(handler, handlers, "--handler")
    missing = [name for name, value in (("--channel", channel), ("--category", category), ("--department", departments or None),
                                        ("--priority", priority), ("--anonymous/--named", anonymous)) if value is None]  # fmt: skip
    if missing and not ask:
        raise click.UsageError(f"missing {', '.join(missing)} (or run in a terminal, or with --interactive, to be asked)")
    contact: bytes | None = None
    if ask:
        channel = channel or click.prompt("Channel", type=channels)
        category = category or click.prompt("Category", type=categories)
        while not departments:
            typed = click.prompt(f"Departments (comma-separated; {', '.join(map(str, department_choice.choices))})")
            try:
                departments = tuple(str(department_choice.convert(d.strip(), None, None)) for d in typed.split(",") if d.strip())
            except click.BadParameter as exc:
                click.echo(f"Error: {exc.message}", err=True)
        priority = priority or click.prompt("Priority", type=priorities, default=str(priorities.choices[0]))
        if handler is None:
            typed_handler = click.prompt("Handler (empty for none yet)", type=click.Choice([*map(str, handlers.choices), ""]), default="", show_default=False)
            handler = typed_handler or None
        if received is None:
            received = click.prompt("Date received", type=DATE, default=today_date.isoformat())
        if anonymous is None:
            anonymous = click.confirm("Anonymous complaint?", default=False)
        if summary is None:
            summary = click.prompt("Summary (internal, no personal data; empty to skip)", default="", show_default=False) or None
        if not anonymous and contact_file is None:
            typed_contact = click.prompt("Contact details (hidden, encrypted before saving; empty for none)", default="", hide_input=True, show_default=False)
            contact = typed_contact.encode("utf-8") or None
    if contact_file is not None:
        contact = contact_file.read_bytes()
    elif contact_stdin:
        contact = sys.stdin.buffer.read()
    assert channel is not None and category is not None and priority is not None and anonymous is not None
    created = create_case(
        repository,
        NewCase(channel, category, departments, priority, received or today_date, anonymous, handler, summary),
        contact,
        today_date,
    )
    if created.placeholder_recipients:
        click.echo("warning: recipients.txt still holds the template's PLACEHOLDER key, whose private key nobody has: "
                   "these contact details can never be decrypted. Put the team's real keys there.", err=True)  # fmt: skip
    click.echo(f"created {created.case_id}")
    click.echo(f"file: {repository.relative(created.path)}")
    click.echo(f"receipt code (shown only now; give it to the complainant): {created.receipt_code}")


@cli.command("event")
@click.argument("case_id", metavar="CASE_ID")
@click.argument("command", metavar="KIND", type=click.Choice(list(EVENT_COMMANDS)))
@click.option("--date", "date", type=DATE, help="The day it happened (default: today).")
@click.option("--reason", help="not-accept: a key of not_accepted_reasons; transfer, extend, pause: internal text.")
@click.option("--department", help="assign: the department given the case.")
@click.option("--handler", help="assign, transfer: the handler given the case.")
@click.option("--from", "from_", help="transfer: the department handing the case over.")
@click.option("--to", help="transfer: the department taking it.")
@click.option("--stage", help="extend: the stage whose time limit is extended (a key of time_limits.stages).")
@click.option("--days", type=click.IntRange(1, 365), help="extend: how many days the limit grows by.")
@click.option("--approver", help="extend: the handler who approved the extension.")
@click.option("--outcome", help="resolve: a key of outcomes; review-answer: a key of review_outcomes.")
@click.option("--measure", "measures", multiple=True, help="resolve: a measure taken (repeat for several).")
@click.option("--satisfaction", help="follow-up: a key of satisfaction.")
@click.option("--summary", help="resolve, review-answer: internal summary of the answer.")
@click.option("--note", help="Any event: an internal note (no personal data).")
@repo_option
@today_option
def event_command(case_id: str, command: str, date: dt.date | None, reason: str | None, department: str | None, handler: str | None,
                  from_: str | None, to: str | None, stage: str | None, days: int | None, approver: str | None, outcome: str | None,
                  measures: tuple[str, ...], satisfaction: str | None, summary: str | None, note: str | None,
                  repo: Path | None, today: dt.date | None) -> None:  # fmt: skip
    """Append a timeline event to a case, in place and atomically.

    KIND is one of: acknowledge, accept, not-accept, assign, transfer, extend, pause, resume,
    resolve, follow-up, review (a review was requested), review-answer, close, protection-check.
    Refuses an event the case's state does not allow, with the reason, and anything that would
    not validate. Only new lines are added: comments and layout stay as they were.

    Example:

        complaints event XN-20260305-7K3QH accept

        complaints event XN-20260305-7K3QH transfer --from permits --to registry --reason "Files are at the registry"

        complaints event XN-20260305-7K3QH resolve --outcome substantiated --measure correction --measure talk
    """
    from .writer import EventFieldError, append_event, build_event

    repository = open_repo(repo)
    today_date = today_in(repository.policy.timezone, today)
    given = {"reason": reason, "department": department, "handler": handler, "from": from_, "to": to, "stage": stage, "days": days,
             "approver": approver, "outcome": outcome, "measures": measures, "satisfaction": satisfaction, "summary": summary, "note": note}  # fmt: skip
    try:
        event = build_event(repository.root, command, date or today_date, given)
    except EventFieldError as exc:
        raise click.UsageError(str(exc)) from None
    path = append_event(repository, case_id, event, today_date)
    click.echo(f"recorded {event['kind']} on {event['date']} in {repository.relative(path)}")


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

        complaints reveal XN-20260305-7K3QH --identity ~/.config/complaints/key.txt --show
    """
    from .crypto import load_identities
    from .writer import reveal_contact, write_private_file

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
@repo_option
@today_option
def rekey(identity: Path | None, repo: Path | None, today: dt.date | None) -> None:
    """Re-encrypt every case's contact details to the keys now in recipients.txt.

    Run it after someone joins or leaves the handling team (edit recipients.txt first), then
    commit. Each file is decrypted with your key and rewritten atomically; only the ciphertext
    lines change. Files your key cannot open are listed and left as they are (exit 1).

    Example:

        complaints rekey --identity ~/.config/complaints/key.txt
    """
    from .crypto import load_identities
    from .writer import rekey as run

    if identity is None:
        raise click.UsageError("give --identity PATH (or set COMPLAINTS_AGE_IDENTITY) to your age private key file")
    repository = open_repo(repo)
    report = run(repository, load_identities(identity), today_in(repository.policy.timezone, today))
    for failure in report.failed:
        click.echo(f"not re-encrypted: {failure}", err=True)
    click.echo(f"re-encrypted {len(report.rekeyed)} case(s); {len(report.skipped)} without contact details or sample; {len(report.failed)} failed")
    sys.exit(1 if report.failed else 0)


# --- stats (aggregate statistics with disclosure control; area of issue 5) ------------------


def _period(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    from .stats import Period

    if value is None:
        return None
    try:
        return Period.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@cli.command("stats")
@click.option("--period", callback=_period, default=None, metavar="PERIOD",
              help="A month YYYY-MM, a quarter YYYY-Qn or a year YYYY. Default: the year of --today.")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "markdown"]), default="json", show_default=True,
              help="json follows schema/stats.schema.json; csv is open data (UTF-8 with BOM); markdown is the site page.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Language of the markdown page.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write stats-PERIOD.EXT into this folder instead of printing.")
@click.option("--accept-unconfirmed", is_flag=True, help="Count working days in a year whose official calendar is not yet announced.")
@skip_invalid_option
@no_cache_option
@repo_option
@today_option
def stats_command(period: Any, fmt: str, lang: str, out_dir: Path | None, accept_unconfirmed: bool, skip_invalid: bool, no_cache: bool,
                  repo: Path | None, today: dt.date | None) -> None:
    """Publishable statistics: volumes, the 三率, on-time rates, working days, backlog and more.

    Counts only valid cases, by the month they were received, as of --today. Small counts
    (1 <= n < publication.threshold in policy.yml) are withheld together with enough other
    cells that none can be recovered; everything written is scanned for personal data first
    and nothing is written when a pattern is found. Each output names the formula version,
    the data's commit and the generation date.

    Example:

        complaints stats --period 2026-Q1 --format markdown --out stats-out --today 2026-04-10
    """
    from .stats import compute
    from .statsreport import render, write

    repository = open_repo(repo, no_cache)
    if out_dir is not None:
        from .outdir import check_output_folder

        check_output_folder(out_dir, repository.root)  # before any work: a refused --out changes nothing
    report = compute(repository, period, today_in(repository.policy.timezone, today), accept_unconfirmed=accept_unconfirmed,
                     skip_invalid=skip_invalid)
    _report_left_out(report.invalid_left_out)
    if out_dir is None:
        click.echo(render(report, fmt, lang), nl=False)
    else:
        path = write(report, fmt, out_dir, lang, repo_root=repository.root)
        click.echo(f"wrote {path} ({report.suppressed_cells} cell(s) withheld)")


# --- site: the published site with mkdocs-material (issue 6) ---------------------------------


@cli.group("site")
def site_group() -> None:
    """Build or preview the published site: how to complain, the process, the time limits and
    the statistics, in Chinese and English.

    Example:

        complaints site build --today 2026-05-05
    """


@site_group.command("build")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Build into this folder (default: public/ in the repository; kept out of git).")
@click.option("--strict/--no-strict", default=True, show_default=True, help="Fail on any MkDocs warning (broken link, missing anchor...).")
@click.option("--period", default=None, metavar="YYYY|YYYY-Qn|YYYY-MM", help="Statistics period shown (default: the year to date).")
@click.option("--site-url", default=None, metavar="URL", help="Where the site will be published, e.g. https://example-org.github.io/complaints/ (for the language links and the sitemap).")
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

        complaints site build --out public --today 2026-05-05
    """
    from .site import DEFAULT_OUT, build_site

    repository = open_repo(repo)
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

        complaints site serve --dev-addr 127.0.0.1:8000
    """
    from .site import serve_site

    repository = open_repo(repo)
    serve_site(repository.root, today_in(repository.policy.timezone, today), dev_addr, period)
