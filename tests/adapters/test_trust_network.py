"""Hostile answers from the network: rate-limit headers that are not sane numbers are treated
as absent (the bounded back-off applies), and credentials typed into a URL are never echoed."""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from complaints.cli import cli
from complaints.adapters.github import GitHubClient, GitHubError, RetryPolicy, safe_message
from githubstub import REPOSITORY, WRITE_TOKEN, GitHubStub, github_stub  # noqa: F401 - fixture
from conftest import copy_repo
from githubstub.factories import Sleeps, client

HOSTILE = ["nan", "NaN", "-5", "-inf", "inf", "1e400", "1e3", "99999999999999", "soon", "", "0x10", "12 34"]
BACKOFF = RetryPolicy(backoff_start=60, backoff_cap=900)


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_retry_after_is_treated_as_absent(github_stub: GitHubStub, value: str) -> None:
    github_stub.fail_next("retry_after_429", retry_after=value)
    sleeps = Sleeps()
    assert client(github_stub, sleeps=sleeps, retry=BACKOFF).get_repository()["full_name"] == REPOSITORY
    assert sleeps == [60.0]  # the first step of the exponential back-off, not the header


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_reset_header_is_treated_as_absent(github_stub: GitHubStub, value: str) -> None:
    github_stub.fail_next("primary", reset_header=value)
    sleeps = Sleeps()
    client(github_stub, sleeps=sleeps, retry=BACKOFF).get_repository()
    assert sleeps == [60.0]


def test_hostile_headers_every_time_end_in_a_bounded_refusal(github_stub: GitHubStub) -> None:
    github_stub.fail_next("retry_after_429", times=20, retry_after="nan")
    sleeps = Sleeps()
    with pytest.raises(GitHubError, match="still rate limited after 3 waits"):
        client(github_stub, sleeps=sleeps, retry=RetryPolicy(rate_limit_retries=3, backoff_start=60, backoff_cap=100)).get_repository()
    assert sleeps == [60.0, 100.0, 100.0]


def test_a_sane_http_date_retry_after_is_honoured(github_stub: GitHubStub) -> None:
    when = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 120))
    github_stub.fail_next("retry_after_429", retry_after=when)
    sleeps = Sleeps()
    client(github_stub, sleeps=sleeps).get_repository()
    assert len(sleeps) == 1 and 100 <= sleeps[0] <= 121


def test_notify_survives_retry_after_nan(tmp_path: Path, github_stub: GitHubStub, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_repo(tmp_path / "repo")
    monkeypatch.setattr("time.sleep", Sleeps())
    # notify changes issues only as of the real today: the clock says it is that day
    monkeypatch.setattr("complaints.cli.app.today_in", lambda _tz, override: override or dt.date(2026, 4, 20))
    github_stub.fail_next("retry_after_429", times=2, retry_after="nan")
    env = {"GITHUB_TOKEN": WRITE_TOKEN, "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_API_URL": github_stub.url}
    result = CliRunner().invoke(cli, ["notify", "--repo", str(root), "--today", "2026-04-20"], env=env)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and result.exception is None


def test_a_server_message_is_printed_without_control_characters() -> None:
    assert safe_message("bad\x1b[2J\x1b]0;owned\x07 thing\u202e") == "bad [2J ]0;owned  thing"
    assert len(safe_message("x" * 10_000)) == 200


@pytest.mark.parametrize(
    "url",
    ["https://user:s3cr3t-pass@api.example.org", "https://s3cr3t-pass@api.example.org", "ftp://user:s3cr3t-pass@x", "https://user:s3cr3t-pass@[::1"],
)
def test_credentials_in_the_api_url_are_refused_and_never_echoed(url: str) -> None:
    with pytest.raises(GitHubError) as caught:
        GitHubClient(WRITE_TOKEN, REPOSITORY, sleep=Sleeps(), clock=time.time, api_url=url)
    assert "s3cr3t-pass" not in str(caught.value)


def test_notify_never_echoes_credentials_of_the_api_url(tmp_path: Path, github_stub: GitHubStub) -> None:
    root = copy_repo(tmp_path / "repo")
    url = github_stub.url.replace("http://", "http://user:s3cr3t-pass@")
    env = {"GITHUB_TOKEN": WRITE_TOKEN, "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_API_URL": url}
    result = CliRunner().invoke(cli, ["notify", "--dry-run", "--repo", str(root), "--today", "2026-04-20"], env=env)
    assert result.exit_code == 1
    assert "s3cr3t-pass" not in result.stdout + result.stderr
    assert "user name or password" in result.stderr
    assert github_stub.requests == []


def test_a_link_header_with_credentials_is_not_followed(github_stub: GitHubStub) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        link = f'<{github_stub.url.replace("http://", "http://u:s3cr3t-pass@")}/x?page=2>; rel="next"'
        return httpx.Response(200, json=[], headers={"Link": link}, request=request)

    c = GitHubClient(WRITE_TOKEN, REPOSITORY, sleep=Sleeps(), clock=time.time, api_url=github_stub.url, transport=httpx.MockTransport(handler))
    with pytest.raises(GitHubError) as caught:
        c.list_labels()
    assert "s3cr3t-pass" not in str(caught.value)


def test_pages_linked_in_a_circle_are_not_followed_forever(github_stub: GitHubStub) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = "2" if "page=1" in str(request.url) or "page" not in str(request.url) else "1"
        return httpx.Response(200, json=[], headers={"Link": f'<{github_stub.url}/x?page={page}>; rel="next"'}, request=request)

    c = GitHubClient(WRITE_TOKEN, REPOSITORY, sleep=Sleeps(), clock=time.time, api_url=github_stub.url, transport=httpx.MockTransport(handler))
    with pytest.raises(GitHubError, match="loops"):
        c.list_labels()
