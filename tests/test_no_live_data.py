"""The tool's tests test the tool: no test (nor a benchmark module the tests load) reads the
organisation's own policy.yml, calendar.yml, recipients.txt, cases/, site/ or mkdocs.yml from
the checkout. They read the frozen template under tests/fixtures/template instead, so an
organisation that adopts the template (new policy, its own cases) keeps a passing suite."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORG_DATA = ("policy.yml", "calendar.yml", "recipients.txt", "cases", "site", "mkdocs.yml", "schema")
# A name bound to the checkout's root, then joined with an organisation file.
ROOT_NAME = re.compile(r"^(\w+)\s*=\s*Path\(__file__\)\.resolve\(\)\.(?:parent\.parent|parents\[1\]|parents\[2\])\s*$", re.M)
# The shared root (tests/conftest.py) imported under its own name.
ROOT_IMPORT = re.compile(r"^from conftest import .*\bROOT\b", re.M)


def live_reads(text: str) -> list[str]:
    found = []
    for name in ROOT_NAME.findall(text) + (["ROOT"] if ROOT_IMPORT.search(text) else []):
        for data in ORG_DATA:
            for match in re.finditer(rf"\b{re.escape(name)}\s*/\s*[\"']{re.escape(data)}[\"'/]", text):
                found.append(match.group(0))
    return found


def test_the_check_finds_a_live_read() -> None:
    sample = 'from pathlib import Path\nPROJECT = Path(__file__).resolve().parents[1]\nraw = (PROJECT / "policy.yml").read_text()\n'
    assert live_reads(sample) == ['PROJECT / "policy.yml"']
    frozen = 'ROOT = Path(__file__).resolve().parent.parent\nTEMPLATE = ROOT / "tests" / "fixtures" / "template"\n'
    assert live_reads(frozen) == []
    shared = 'from conftest import ROOT, copy_repo\nraw = (ROOT / "calendar.yml").read_text()\n'
    assert live_reads(shared) == ['ROOT / "calendar.yml"']


# `benchmarks/synth.py --sample` is how the template's maintainers rewrite the sample cases;
# no test runs it.
ALLOWED = {"benchmarks/synth.py": ['ROOT / "cases"']}


def test_no_test_reads_the_organisations_data() -> None:
    modules = sorted((ROOT / "tests").rglob("*.py")) + sorted((ROOT / "benchmarks").glob("*.py"))
    modules.remove(Path(__file__).resolve())
    offenders = {m.relative_to(ROOT).as_posix(): hits for m in modules if (hits := live_reads(m.read_text(encoding="utf-8")))}
    assert offenders == ALLOWED
