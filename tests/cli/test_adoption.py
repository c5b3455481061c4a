"""Adopting the template, as the README's "Adopting the template in your organisation" says, in a
temporary copy of the repository: a new prefix, a new department and category, its own handlers
and approver, the samples removed, a key from `keygen`, cases recorded with `new` and `event`.
Then the suite's main commands work there, a policy-only break fails `--changed-since`, a
private key in recipients.txt fails `validate`, `overdue --today` on a past day lists what was
late then, a deadline in an unconfirmed year is provisional without stopping anything, and the
tool's own tests pass unchanged. Every command of the README's adoption steps is run here."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, TEMPLATE

BIN = Path(sys.executable).parent
README = ROOT / "README.md"
# What a copy of the repository leaves behind: the environment, git, builds, caches.
SKIP = {".venv", ".git", "public", "test-artifacts", ".cache", ".mypy_cache", ".pytest_cache", ".hypothesis",
        "__pycache__", "site-build", "build"}
ORG_DATA = ("policy.yml", "calendar.yml", "recipients.txt", "cases", "mkdocs.yml", "site")
# The tool's own tests that an adoption used to break, run again inside the adopted copy.
SUITE_SUBSET = ("tests/commands/test_writer_intake.py", "tests/cli/test_deadlines_cli.py", "tests/test_no_live_data.py")

pytestmark = pytest.mark.slow


def readme_adoption_commands() -> list[str]:
    """Every command line in the sh blocks of the README's adoption section, in order."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Adopting the template in your organisation"):]
    section = section[: section.index("\n## ", 1)]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        commands += [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]
    return commands


class Adopted:
    """A copy of the repository as the template ships it, in which commands run as in a shell."""

    def __init__(self, root: Path, home: Path) -> None:
        self.root = root
        self.home = home
        self.ran: list[str] = []
        self.env = {
            **os.environ,
            "HOME": str(home),
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONDONTWRITEBYTECODE": "1",
            "GIT_AUTHOR_NAME": "Adopter", "GIT_AUTHOR_EMAIL": "adopter@example.org",
            "GIT_COMMITTER_NAME": "Adopter", "GIT_COMMITTER_EMAIL": "adopter@example.org",
        }
        self.env.pop("COMPLAINTS_AGE_IDENTITY", None)

    def sh(self, command: str, *, expect: int | None = 0, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(["bash", "-c", command], cwd=self.root, env={**self.env, **(env or {})},
                              capture_output=True, text=True, timeout=900)
        self.ran.append(command)
        if expect is not None:
            assert done.returncode == expect, f"{command}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.root / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new), encoding="utf-8")


def copy_template(target: Path) -> Path:
    """The repository as shipped: the tool from this checkout, the organisation's data from
    the frozen template, a git history of one commit, and this test run's environment."""
    shutil.copytree(ROOT, target, ignore=lambda _d, names: [n for n in names if n in SKIP or n.endswith(".egg-info")])
    for name in ORG_DATA:
        shutil.rmtree(target / name, ignore_errors=True)
        (target / name).unlink(missing_ok=True) if (target / name).is_file() else None
        source = TEMPLATE / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        elif source.exists():
            shutil.copy2(source, target / name)
    borrow_environment(target)
    return target


def borrow_environment(target: Path) -> None:
    """A .venv for the copy that runs this test run's interpreter and `complaints` (the same
    code), with dev.py's install stamps matching the copy's pyproject.toml, so `dev.py demo`
    and `dev.py test` there install nothing (and never touch this run's environment)."""
    bin_dir = target / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, real in (("python", Path(sys.executable)), ("complaints", BIN / "complaints")):
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\nexec "{real}" "$@"\n', encoding="utf-8")
        script.chmod(0o755)
    (bin_dir / "activate").write_text(f'PATH="{bin_dir}:$PATH"\nexport PATH\n', encoding="utf-8")
    digest = hashlib.sha256((target / "pyproject.toml").read_bytes()).hexdigest()
    for extra in ("core", "test"):
        (target / ".venv" / f".installed-{extra}").write_text(digest, encoding="utf-8")


POLICY_HANDLERS = """handlers:
  h-li: {name: {zh: 李处理, en: Handler Li}, departments: [transport, inspection], github: li-handles}
  h-he: {name: {zh: 何处理, en: Handler He}, departments: [permits, registry, general_office, finance, hr, it], github: he-handles}
  d-ma: {name: {zh: 马主任, en: Director Ma}, departments: [general_office], github: ma-directs, approver: true}
"""


def adopt_policy(repo: Adopted, salt: str) -> None:
    policy = repo.root / "policy.yml"
    text = policy.read_text(encoding="utf-8")
    start, end = text.index("handlers:\n"), text.index("# The complaint committee")
    text = text[:start] + POLICY_HANDLERS + "\n" + text[end:]
    text = text.replace("  chair: d-zhang\n  members: [d-zhang, h-chen, h-lin]", "  chair: d-ma\n  members: [d-ma, h-li]")
    text = text.replace("id_prefix: XN", "id_prefix: GA")
    text = text.replace("name: {zh: 示例市行政服务中心, en: Example City Administrative Service Centre}", "name: {zh: 港湾区政务中心, en: Harbour District Service Centre}")
    text = text.replace("https://github.com/example-org/complaints", "https://github.com/harbour-gov/complaints")
    text = text.replace("  inspection: {zh: 效能督查科, en: Efficiency Inspection}", "  inspection: {zh: 效能督查科, en: Efficiency Inspection}\n  transport: {zh: 交通科, en: Transport}")
    text = text.replace("  other: {zh: 其他效能问题, en: Other efficiency issues}", "  parking: {zh: 停车管理, en: Parking management}\n  other: {zh: 其他效能问题, en: Other efficiency issues}")
    text = re.sub(r"salt: [0-9a-f]+", f"salt: {salt}", text)
    policy.write_text(text, encoding="utf-8")


def created_id(output: str) -> str:
    match = re.search(r"created (GA-\d{8}-[0-9A-Z]{5})", output)
    assert match, output
    return match.group(1)


def test_adopting_the_template(tmp_path: Path) -> None:
    repo = Adopted(copy_template(tmp_path / "harbour"), tmp_path / "home")
    repo.home.mkdir()
    repo.sh("git init -q -b main && git add -A && git commit -q -m template")
    steps = readme_adoption_commands()
    assert steps, "the README's adoption section has no commands"

    # 1. Set up (the demo on the samples, as of their snapshot day).
    demo = repo.sh("python3 dev.py demo")
    assert "--today 2026-11-28" in demo.stdout
    repo.sh(". .venv/bin/activate")

    # 2. The policy: a fresh salt, a new prefix, department and category, its own people.
    salt = repo.sh('python3 -c "import secrets; print(secrets.token_hex(16))"').stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{32}", salt)
    adopt_policy(repo, salt)
    # Still the samples (XN-..., handlers that are gone): the validator names what to fix.
    before = repo.sh("complaints validate", expect=1)
    assert "cases/20" in before.stdout

    # 3. The forms follow the policy.
    repo.sh("complaints forms")
    form = (repo.root / ".github/ISSUE_TEMPLATE/complaint.yml").read_text(encoding="utf-8")
    assert '"transport"' in form and '"parking"' in form
    repo.sh("complaints forms --check")

    # 4. A key from keygen; its line replaces the placeholder in recipients.txt.
    made = repo.sh("complaints keygen --out ~/.config/complaints/key.txt", expect=None)
    assert made.returncode == 2 and "does not exist" in made.stderr  # the folder must exist first
    (repo.home / ".config" / "complaints").mkdir(parents=True)
    made = repo.sh("complaints keygen --out ~/.config/complaints/key.txt")
    key_file = repo.home / ".config" / "complaints" / "key.txt"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert "AGE-SECRET-KEY-1" not in made.stdout
    line = made.stdout.strip().splitlines()[-1]
    assert line.startswith("age1")
    (repo.root / "recipients.txt").write_text(f"# The Harbour District handling team's age public keys.\n{line}\n", encoding="utf-8")
    inside = repo.sh("complaints keygen --out cases/key.txt", expect=2)
    assert "inside the repository" in inside.stderr and not (repo.root / "cases" / "key.txt").exists()

    # 5. The samples go.
    repo.sh("rm -r cases/20* benchmarks/sample-receipt-codes.json")
    assert not list((repo.root / "cases").glob("*/*.yml"))
    repo.sh("complaints validate")

    # 7. The site builds from the adopted policy, with no cases yet, for the address GitHub
    # Pages publishes the adopted repository at.
    repo.sh("complaints site build")
    sitemap = (repo.root / "public" / "sitemap.xml").read_text(encoding="utf-8")
    assert "<loc>https://harbour-gov.github.io/complaints/</loc>" in sitemap
    assert 'href="/complaints/' in (repo.root / "public" / "404.html").read_text(encoding="utf-8")

    # 8. Check everything; the tool's own tests pass on the adopted copy (a subset that used to
    # break on adoption, plus the check that no test reads the organisation's data).
    repo.sh("complaints validate")
    suite = repo.sh("python3 dev.py test", env={"PYTEST_ADDOPTS": " ".join(("-q", "-p", "no:cacheprovider", *SUITE_SUBSET))})
    assert " passed" in suite.stdout and "failed" not in suite.stdout
    repo.sh("git add -A")
    repo.sh('git commit -m "Adopt the complaints template"')

    # 10. Cases recorded with `new` and `event`: the README's example, and the new department.
    readme_new = next(c for c in steps if c.startswith("complaints new "))
    first = created_id(repo.sh(readme_new).stdout)
    readme_event = next(c for c in steps if c.startswith("complaints event "))
    repo.sh(readme_event.replace("CASE_ID", first))
    # Resolved late: accepted 09-02, 30 calendar days to 10-02 (National Day: moved to
    # Thu 10-08, the next working day), resolved only on 10-27.
    late = created_id(repo.sh("complaints new --channel letter --category parking --department transport "
                              "--priority normal --handler h-li --anonymous --received 2026-09-01").stdout)
    repo.sh(f"complaints event {late} accept --date 2026-09-02")
    repo.sh(f"complaints event {late} assign --department transport --handler h-li --date 2026-09-02")
    repo.sh(f"complaints event {late} resolve --outcome substantiated --measure correction --date 2026-10-27")
    # A deadline in 2027: accepted 11-20, 30 days + a 15-day extension approved by the new
    # approver = 2027-01-04, a year whose official calendar is not announced yet.
    future = created_id(repo.sh("complaints new --channel hotline --category parking --department transport "
                                "--priority normal --handler h-li --anonymous --received 2026-11-19").stdout)
    repo.sh(f"complaints event {future} accept --date 2026-11-20")
    repo.sh(f"complaints event {future} extend --stage resolve --days 15 --approver d-ma --reason 'Two offices involved' --date 2026-11-23")
    repo.sh("complaints validate --today 2026-11-30")
    repo.sh("complaints overdue")

    # The suite's main commands on the organisation's cases.
    overdue = repo.sh("complaints overdue --today 2026-11-30 --format json")
    document = json.loads(overdue.stdout)
    rows = {(r["case_id"], r["stage"]): r for g in document["groups"] for r in g["stages"]}
    assert all(case_id.startswith("GA-") for case_id, _ in rows)
    repo.sh(f"complaints deadlines {future} --today 2026-11-30")
    repo.sh("complaints stats --format markdown --today 2026-11-30")
    repo.sh("complaints notify --dry-run --today 2026-11-30", env={"GITHUB_REPOSITORY": "harbour-gov/complaints", "GITHUB_TOKEN": ""}, expect=None)

    # A deadline in an unconfirmed year: provisional, and nothing stops.
    explained = json.loads(repo.sh(f"complaints deadlines {future} --today 2026-11-30 --format json").stdout)
    resolve = next(s for s in explained["stages"] if s["key"].endswith("/resolve"))
    assert resolve["due"] == "2027-01-04" and resolve["provisional"] is True
    soon = repo.sh("complaints overdue --today 2026-12-31")
    assert re.search(rf"{future}\s+resolve.*due 2027-01-04 \(provisional\)", soon.stdout), soon.stdout
    assert "2027" in soon.stderr and "provisional" in soon.stderr
    site = repo.sh("complaints site build --today 2026-12-31")
    assert "2027" in site.stderr and "provisional" in site.stderr
    receipts = json.loads(next((repo.root / "public").rglob("receipts.json")).read_text(encoding="utf-8"))
    assert receipts["as_of"] == "2026-12-31"

    # Looking back: on 2026-10-20 the late case's resolve stage was overdue (due 10-08).
    then = json.loads(repo.sh("complaints overdue --today 2026-10-20 --format json").stdout)
    late_then = {(r["case_id"], r["stage"]): r for g in then["groups"] for r in g["stages"]}
    assert late_then[(late, "resolve")]["state"] == "overdue" and late_then[(late, "resolve")]["due"] == "2026-10-08"
    assert (late, "resolve") not in rows  # resolved since
    assert not any(case_id == future for case_id, _ in late_then)  # not received yet then
    assert then["skipped"] == 0

    # The handler's demo works on the organisation's own cases (as of today).
    demo = repo.sh("python3 dev.py demo")
    assert "--today" not in demo.stdout

    repo.sh("git add -A && git commit -q -m 'three cases'")

    # A policy-only change that breaks a case nobody touched fails --changed-since.
    repo.edit("policy.yml", "  transport: {zh: 交通科, en: Transport}", "  traffic: {zh: 交通科, en: Transport}")
    repo.edit("policy.yml", "departments: [transport, inspection]", "departments: [traffic, inspection]")
    broken = repo.sh("complaints validate --changed-since HEAD", expect=1)
    assert f"cases/2026/{late}.yml" in broken.stdout and "every case file checked" in broken.stdout
    repo.sh("git checkout -q -- policy.yml")
    repo.sh("complaints validate --changed-since HEAD")

    # A private key pasted into recipients.txt fails validate, naming the line, never the key.
    secret = next(l for l in key_file.read_text(encoding="ascii").splitlines() if l.startswith("AGE-SECRET-KEY-1"))
    with (repo.root / "recipients.txt").open("a", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    leaked = repo.sh("complaints validate", expect=1)
    assert "recipients.txt:3" in leaked.stdout and "PRIVATE key" in leaked.stdout
    assert secret not in leaked.stdout + leaked.stderr
    repo.sh("git checkout -q -- recipients.txt")

    # Every command of the README's adoption steps was run, as written.
    missing = [c for c in steps if c.replace("CASE_ID", first) not in repo.ran]
    assert not missing, f"README adoption commands not run by this test: {missing}"
