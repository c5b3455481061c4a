"""What reaches the published outputs: planted personal data never does, a personal-data
pattern in anything publishable stops publication, and the command writes each format with
its provenance (formula version, data commit, generation date)."""
from __future__ import annotations

import copy
import datetime as dt
import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from complaints.cli import cli
from complaints.core.deadlines import case_deadlines
from complaints.errors import PublicationError
from complaints.core.pii import scan_text
from complaints.adapters.config import load_policy
from complaints.adapters import git as git_module
from complaints.commands.stats import data_commit
from complaints.core.stats.facts import case_facts
from complaints.core.stats.periods import Period
from complaints.core.stats.tables import compute_from_facts
from complaints.render.stats import render
from complaints.adapters.config import load_calendar
from complaints.adapters.yamlload import load_yaml

from conftest import ROOT
# The template repository as shipped, frozen for the tests (never the live policy or cases).
TEMPLATE = ROOT / "tests" / "fixtures" / "template"
TODAY = dt.date(2026, 11, 30)
SCHEMA = json.loads((TEMPLATE / "schema" / "stats.schema.json").read_text(encoding="utf-8"))

PLANTS = [
    "11010519491231002X",
    "13812345678",
    "１３９１２３４５６７８",
    "+86 150-1234-5678",
    "010-62345678",
    "planted.person@example.com",
    "4111 1111 1111 1111",
]
STRUCTURAL = {"kind", "date", "days", "stage"}  # the clock needs these to stay dates, kinds and numbers


def digits(s: str) -> str:
    import unicodedata

    return "".join(ch for ch in unicodedata.normalize("NFKC", s) if ch.isdigit())


def plant(node: Any, counter: list[int], key: str | None = None) -> Any:
    """Put a personal-data pattern into every string field (appended to free text, replacing keys)."""
    if isinstance(node, dict):
        return {k: (v if k in STRUCTURAL else plant(v, counter, k)) for k, v in node.items()}
    if isinstance(node, list):
        return [plant(v, counter, key) for v in node]
    if isinstance(node, str):
        counter[0] += 1
        pattern = PLANTS[counter[0] % len(PLANTS)]
        free_text = key in {"summary", "note", "reason", "contact"}
        return f"{node} {pattern}" if free_text else pattern
    return node


def assert_clean(text: str, where: str) -> None:
    assert scan_text(text.replace("unknown", "")) == [], where
    flat = digits(text)
    for p in PLANTS:
        assert p not in text, where
        if "@" in p:
            assert p.split("@")[0] not in text, where
        else:
            assert digits(p) not in flat or len(digits(p)) < 11, where


def test_planted_personal_data_never_reaches_any_output() -> None:
    """Every string field of every sample case gets a pattern; the cases then go straight to the
    statistics (bypassing the validator, which would reject them) and every output is checked."""
    policy = load_policy(TEMPLATE)
    calendar = load_calendar(TEMPLATE)
    counter = [0]
    facts = []
    for path in sorted((TEMPLATE / "cases").rglob("*.yml")):
        case = plant(load_yaml(path.read_bytes(), path.name), counter)
        stages = case_deadlines(case, path.name, policy, calendar, TODAY)
        facts.append(case_facts(case, stages, calendar, TODAY))
    assert counter[0] > 500  # a pattern in well over 500 fields
    for period in ("2025", "2026", "2026-Q4", "2026-11"):
        report = compute_from_facts(facts, Period.parse(period), TODAY, policy.raw, calendar)
        assert report.metric("volume_by_channel").total is not None
        for fmt, lang in (("json", "zh"), ("csv", "zh"), ("markdown", "zh"), ("markdown", "en")):
            assert_clean(render(report, fmt, lang), f"{period} {fmt} {lang}")


def test_planted_cases_are_kept_out_by_the_command(sample_repo: Path, tmp_path: Path) -> None:
    repo = sample_repo
    counter = [0]
    for path in sorted((repo / "cases").rglob("*.yml")):
        case = plant(load_yaml(path.read_bytes(), path.name), counter)
        path.write_text(yaml.safe_dump(case, allow_unicode=True, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    for fmt in ("json", "csv", "markdown"):
        result = CliRunner().invoke(cli, ["stats", "--repo", str(repo), "--today", "2026-11-30", "--format", fmt, "--out", str(out),
                                     "--skip-invalid"])  # every planted case is invalid: left out, and counted
        assert result.exit_code == 0, result.output
    files = sorted(f for f in out.iterdir() if f.name != ".complaints-output")  # the output folder's marker
    assert [f.name for f in files] == ["stats-2026.csv", "stats-2026.json", "stats-2026.md"]
    for f in files:
        assert_clean(f.read_text(encoding="utf-8-sig"), f.name)


def test_a_pattern_in_a_published_label_stops_publication() -> None:
    raw = copy.deepcopy(load_policy(TEMPLATE).raw)
    raw["channels"]["hotline"] = {"zh": "投诉电话 010-62345678", "en": "Hotline"}
    report = compute_from_facts([], Period.parse("2026-11"), TODAY, raw, load_calendar(TEMPLATE))
    for fmt in ("json", "csv", "markdown"):
        with pytest.raises(PublicationError) as exc:
            render(report, fmt)
        assert "landline" in str(exc.value) and "62345678" not in str(exc.value)
    json_error = pytest.raises(PublicationError, render, report, "json")
    assert "$.metrics[0].rows[3].label.zh" in str(json_error.value)
    # the organisation's own hotline may be published on purpose
    raw["publication"]["allow"] = ["010-62345678"]
    allowed = compute_from_facts([], Period.parse("2026-11"), TODAY, raw, load_calendar(TEMPLATE))
    assert "010-62345678" in render(allowed, "json")


def test_command_outputs_carry_provenance(sample_repo: Path) -> None:
    repo = sample_repo
    runner = CliRunner()
    result = runner.invoke(cli, ["stats", "--repo", str(repo), "--today", "2026-11-30", "--period", "2026-Q3"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert (doc["data_commit"], doc["generated"], doc["period"]["id"]) == ("unknown", "2026-11-30", "2026-Q3")
    assert doc["period"]["months"] == ["2026-07", "2026-08", "2026-09"]

    csv_text = runner.invoke(cli, ["stats", "--repo", str(repo), "--today", "2026-11-30", "--format", "csv"]).stdout
    assert csv_text.startswith("\ufeffmetric,formula_version,")
    assert ",2026-11-30,unknown" in csv_text.splitlines()[1]

    md = runner.invoke(cli, ["stats", "--repo", str(repo), "--today", "2026-11-30", "--format", "markdown", "--lang", "en"]).stdout
    assert "generated 2026-11-30" in md and "formula version 2" in md and "Formula `response_rate` v1" in md
    assert "next update 2026-12-01" in md

    bad = runner.invoke(cli, ["stats", "--repo", str(repo), "--period", "2026-Q5"])
    assert bad.exit_code == 2
    future = runner.invoke(cli, ["stats", "--repo", str(repo), "--today", "2026-11-30", "--period", "2027"])
    assert future.exit_code == 1 and "begins after" in future.output


def test_data_commit(sample_repo: Path) -> None:
    repo = sample_repo
    assert data_commit(repo) == "unknown"
    assert data_commit(repo, head=git_module.Started(repo, "rev-parse", "HEAD")) == "unknown"  # not a repository
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "x"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    assert data_commit(repo) == head
    assert data_commit(repo, head=git_module.Started(repo, "rev-parse", "HEAD")) == head
    case = sorted((repo / "cases").rglob("*.yml"))[0]
    case.write_text(case.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert data_commit(repo) == "uncommitted"
    assert data_commit(repo, head=git_module.Started(repo, "rev-parse", "HEAD")) == "uncommitted"


def test_a_git_command_started_and_stopped_is_ended(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A git that would run for a minute: stopping it ends it at once, its output unread.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "git").write_text("#!/bin/sh\nexec sleep 60\n", encoding="utf-8")
    (fake / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}:{os.environ['PATH']}")
    started = git_module.Started(tmp_path, "rev-parse", "HEAD")
    assert started.proc is not None and started.proc.poll() is None
    started.stop()
    assert started.proc.returncode == -signal.SIGKILL
    started.stop()  # again: nothing left to end
