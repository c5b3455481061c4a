"""The online form in headless Chromium, end to end: the complaint is filled in Chinese and in
English, the page shows a receipt code and an age ciphertext; the ciphertext holds no
plaintext and no request leaves 127.0.0.1 (none carries the answers or the code); a handler's
key decrypts it, `complaints import` records it, and the check page of the rebuilt site finds
the case by the code the page showed."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pyrage
import pytest
from click.testing import CliRunner
from pyrage import x25519

from complaints.core import receipt
from complaints.cli import cli
from complaints.render.site import build_site

from .conftest import TODAY
from .support import AGE_BUNDLE, AGE_BUNDLE_SHA256, ROOT, copy_repository, recording_page, serve

pytestmark = pytest.mark.browser

ITERATIONS = receipt.MIN_ITERATIONS  # the browser and the import derive the same hash, faster
ENDPOINT = "/intake-endpoint"
ANSWERS = {
    "zh": {
        "path": "/complain/online/",
        "category": "delay",
        "departments": ["permits", "registry"],
        "what": "二〇二六年五月四日在登记窗口办理营业执照变更，工作人员让我等了三周仍未办理。",
        "request": "请尽快办理并说明拖延原因。",
        "contact": "陈美，电话 13800138000",
    },
    "en": {
        "path": "/en/complain/online/",
        "category": "attitude",
        "departments": ["finance"],
        "what": "On 4 May the finance counter refused to explain why my refund was withheld.",
        "request": "",
        "contact": None,  # anonymous
    },
}


@pytest.fixture(scope="module")
def intake_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any, Path, str]]:
    """A repository whose recipients.txt holds a test key, whose policy also offers POST to a
    path on the site itself, and its built site, served locally."""
    base = tmp_path_factory.mktemp("intake")
    root = copy_repository(base / "repo")
    identity = x25519.Identity.generate()
    (root / "recipients.txt").write_text(f"# test key\n{identity.to_public()}\n", encoding="utf-8")
    key_file = base / "key.txt"
    key_file.write_text(f"{identity}\n", encoding="utf-8")
    policy = (root / "policy.yml").read_text(encoding="utf-8")
    policy = policy.replace("iterations: 600000", f"iterations: {ITERATIONS}")
    policy = policy.replace("send: [copy, download, email]", "send: [copy, download, email, post]")
    policy = policy.replace("# endpoint: https://forms.example.org/complaints/intake   # then add `post` to send", f"endpoint: {ENDPOINT}")
    (root / "policy.yml").write_text(policy, encoding="utf-8")
    out = base / "public"
    build_site(root, out, TODAY, skip_invalid=True)  # the samples run past TODAY
    with serve(out) as url:
        yield root, identity, key_file, url


def _fill(page: Any, answers: dict[str, Any]) -> None:
    page.select_option("#online-category", answers["category"])
    for department in answers["departments"]:
        page.check(f"input[name=departments][value={department}]")
    page.fill("#online-what", answers["what"])
    if answers["request"]:
        page.fill("#online-request", answers["request"])
    if answers["contact"] is None:
        page.check("#online-anonymous")
    else:
        page.check("#online-named")
        page.fill("#online-contact", answers["contact"])
    page.check("#online-consent")


def _wait_state(page: Any, *states: str) -> str:
    page.wait_for_function(
        "states => states.includes(document.querySelector('[data-online-form]').dataset.state)", arg=list(states), timeout=30_000
    )
    return str(page.get_attribute("[data-online-form]", "data-state"))


def _plaintexts(answers: dict[str, Any], code: str) -> list[str]:
    pieces = [answers["what"], answers["what"][:12], code, receipt.normalize_code(code)]
    if answers["request"]:
        pieces.append(answers["request"])
    if answers["contact"]:
        pieces += [answers["contact"], "13800138000"]
    return pieces


@pytest.fixture(scope="module")
def submitted(browser: Any, intake_repo: tuple[Path, Any, Path, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Each language's form filled and encrypted, with everything the page did on the way:
    the code, the ciphertext, every request (and POST body) and each send option's output."""
    _root, _identity, _key, url = intake_repo
    results: dict[str, dict[str, Any]] = {}
    for lang, answers in ANSWERS.items():
        with recording_page(browser, permissions=["clipboard-read", "clipboard-write"], accept_downloads=True) as page:
            bodies: list[bytes] = []
            page.on("request", lambda request: bodies.append(request.post_data_buffer or b""))
            posted: list[bytes] = []

            def endpoint(route: Any) -> None:
                posted.append(route.request.post_data_buffer or b"")
                route.fulfill(status=200, body="ok")

            page.route(f"**{ENDPOINT}", endpoint)
            page.goto(url + answers["path"])
            _fill(page, answers)
            page.click("[data-online-form] button[type=submit]")
            assert _wait_state(page, "done", "error", "invalid") == "done"
            code = page.inner_text("[data-online-code]").strip()
            armored = page.input_value("[data-online-ciphertext]")
            # The typed answers are gone from the page once the ciphertext exists.
            assert page.input_value("#online-what") == "" and page.is_hidden("form")
            with page.expect_download() as download_info:
                page.click("[data-send=download]")
            downloaded = Path(download_info.value.path()).read_bytes()
            page.click("[data-send=copy]")
            page.wait_for_function("() => document.querySelector('[data-online-status]').textContent.length > 0")
            clipboard = page.evaluate("() => navigator.clipboard.readText()")
            mailto = str(page.get_attribute("[data-send=email]", "href"))
            page.click("[data-send=post]")
            page.wait_for_function("() => document.querySelector('[data-online-form]').dataset.posted === 'ok'", timeout=10_000)
            shot = tmp_path_factory.mktemp("shots") / f"online-{lang}.png"
            page.screenshot(path=str(shot), full_page=True)
            results[lang] = {
                "code": code, "armored": armored, "requested": list(page.requested), "bodies": bodies, "posted": posted,
                "downloaded": downloaded, "clipboard": clipboard, "mailto": mailto, "base": url,
            }  # fmt: skip
    return results


def test_the_vendored_age_library_is_the_pinned_one(intake_repo: tuple[Path, Any, Path, str]) -> None:
    # The frozen template's copy (the live site/ belongs to the adopting organisation), and the
    # copy the served test site was built from.
    root, _identity, _key, _url = intake_repo
    for source in (ROOT / "tests" / "fixtures" / "template" / "site" / "zh" / AGE_BUNDLE, root / "site" / "zh" / AGE_BUNDLE):
        assert hashlib.sha256(source.read_bytes()).hexdigest() == AGE_BUNDLE_SHA256
        licence = source.with_name("age-encryption-0.3.1.LICENSE.txt").read_text(encoding="utf-8")
        assert "Copyright 2023 The age Authors" in licence and "Paul Miller" in licence


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_ciphertext_is_age_to_our_key_and_holds_no_plaintext(submitted: dict[str, dict[str, Any]], intake_repo: tuple[Path, Any, Path, str],
                                                            lang: str) -> None:  # fmt: skip
    root, identity, _key, _url = intake_repo
    result, answers = submitted[lang], ANSWERS[lang]
    code, armored = result["code"], result["armored"]
    assert receipt.format_code(receipt.normalize_code(code)) == code  # 16 Crockford characters in four groups
    assert armored.startswith("-----BEGIN AGE ENCRYPTED FILE-----") and armored.rstrip().endswith("-----END AGE ENCRYPTED FILE-----")
    binary = base64.b64decode("".join(armored.strip().splitlines()[1:-1]))
    assert binary.startswith(b"age-encryption.org/v1\n-> X25519 ")
    for piece in _plaintexts(answers, code):
        assert piece not in armored and piece.encode() not in binary, piece
    document = json.loads(pyrage.decrypt(armored.encode(), [identity]))
    assert document["format"] == "complaints-submission" and document["version"] == 1 and document["lang"] == lang
    assert document["channel"] == "online_form" and document["category"] == answers["category"]
    assert document["departments"] == answers["departments"] and document["what_happened"] == answers["what"]
    assert document["anonymous"] is (answers["contact"] is None) and document.get("contact") == answers["contact"]
    assert document.get("request", "") == answers["request"] and document["consent"] is True
    # The code is in it only as the slow hash the check page derives.
    settings = receipt.ReceiptSettings(_salt(root), ITERATIONS)
    assert document["receipt_hash"] == receipt.receipt_hash(code, settings)


def _salt(root: Path) -> str:
    from complaints.adapters.config import load_policy

    return str(load_policy(root).raw["receipt"]["salt"])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_nothing_readable_leaves_the_page_and_nothing_goes_elsewhere(submitted: dict[str, dict[str, Any]], lang: str) -> None:
    result, answers = submitted[lang], ANSWERS[lang]
    host = urlsplit(result["base"]).netloc
    requested = [u for u in result["requested"] if not u.startswith(("data:", "blob:"))]
    assert requested and [u for u in requested if urlsplit(u).netloc != host] == []
    assert any(u.endswith(AGE_BUNDLE) for u in requested)
    pieces = _plaintexts(answers, result["code"])
    for url in requested:
        assert not any(piece in unquote(url) for piece in pieces), url
    for body in result["bodies"]:
        assert not any(piece.encode() in body for piece in pieces)
    # Each way of sending carries exactly the ciphertext.
    armored = result["armored"]
    assert result["posted"] == [armored.encode()]
    assert result["downloaded"].decode() == armored and result["clipboard"] == armored
    assert result["mailto"].startswith("mailto:complaints@example.org?subject=")
    assert unquote(result["mailto"].split("&body=", 1)[1]) == armored


def test_incomplete_form_is_explained_and_nothing_is_encrypted(browser: Any, intake_repo: tuple[Path, Any, Path, str]) -> None:
    url = intake_repo[3]
    with recording_page(browser) as page:
        page.goto(url + "/complain/online/")
        page.check("#online-named")
        page.click("[data-online-form] button[type=submit]")
        assert _wait_state(page, "invalid", "done") == "invalid"
        errors = page.inner_text("[data-online-errors]")
        assert "请选择投诉类别" in errors and "请至少选择一个涉及的部门" in errors and "实名投诉请留下联系方式" in errors
        assert page.is_hidden("[data-online-result]") and page.input_value("[data-online-ciphertext]") == ""


def test_imported_submissions_are_found_on_the_rebuilt_check_page(
    submitted: dict[str, dict[str, Any]], intake_repo: tuple[Path, Any, Path, str], browser: Any, tmp_path: Path
) -> None:
    root, _identity, key_file, _url = intake_repo
    for lang in ("zh", "en"):
        result = CliRunner().invoke(cli, ["import", "-", "--identity", str(key_file), "--repo", str(root), "--today", TODAY.isoformat(),
                                          "--summary", "Online complaint", "--yes"], input=submitted[lang]["armored"])  # fmt: skip
        assert result.exit_code == 0, result.output
        assert ANSWERS[lang]["what"] in result.stdout  # shown for review
        created = result.stdout.split("created ", 1)[1].split()[0]
        text = next((root / "cases").rglob(f"{created}.yml")).read_text(encoding="utf-8")
        assert ANSWERS[lang]["what"] not in text and "13800138000" not in text
        # A second import of the same ciphertext is a replay.
        again = CliRunner().invoke(cli, ["import", "-", "--identity", str(key_file), "--repo", str(root), "--today", TODAY.isoformat(), "--yes"],
                                   input=submitted[lang]["armored"])  # fmt: skip
        assert again.exit_code == 1 and "already imported" in again.output
    out = tmp_path / "rebuilt"
    build_site(root, out, TODAY, skip_invalid=True)  # the samples run past TODAY
    with serve(out) as url, recording_page(browser) as page:
        for lang, path, word in (("zh", "/check/", "已登记"), ("en", "/en/check/", "Received")):
            page.goto(url + path)
            page.fill("#receipt-code", submitted[lang]["code"])
            page.click("[data-receipt-check] button[type=submit]")
            page.wait_for_function(
                "() => { const o = document.querySelector('[data-receipt-output]');"
                " return o.dataset.result && o.dataset.result !== 'working'; }",
                timeout=30_000,
            )
            assert page.get_attribute("[data-receipt-output]", "data-result") == "received"
            assert word in page.inner_text("[data-receipt-output]")
        assert [u for u in page.requested if urlsplit(u).netloc != urlsplit(url).netloc and not u.startswith("data:")] == []


def test_receipt_codes_match_complaints_new(browser: Any, intake_repo: tuple[Path, Any, Path, str]) -> None:
    """16 Crockford base32 characters in groups of four, each symbol as likely as any other:
    the 80 bits of `complaints new`'s codes (receipt.new_code)."""
    with recording_page(browser) as page:
        page.goto(intake_repo[3] + "/complain/online/")
        codes = page.evaluate("() => Array.from({length: 2000}, () => window.complaintsOnlineForm.newCode())")
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert receipt.format_code(receipt.normalize_code(code)) == code
        assert len(code) == len(receipt.new_code())
    counts = {symbol: 0 for symbol in receipt.CROCKFORD}
    for code in codes:
        for symbol in code.replace("-", ""):
            counts[symbol] += 1
    # 32,000 symbols, 1,000 expected of each (standard deviation 31). A lost bit (a symbol never
    # drawn, or twice as often) is far outside these bounds; a fair source falls outside them in
    # fewer than one run in 10^10 (7 standard deviations, 32 symbols).
    assert all(780 <= n <= 1220 for n in counts.values()), counts
