"""The GitHub client over real HTTP against the local stand-in: headers, pagination, errors,
rate limits of each kind, 5xx and dropped connections, and the token kept out of every message."""
from __future__ import annotations

import time

import httpx
import pytest

from complaints.adapters.github import (
    AuthenticationError,
    GitHubClient,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RetryPolicy,
    UnavailableError,
)
from githubstub import READ_TOKEN, REPOSITORY, WRITE_TOKEN, GitHubStub, github_stub  # noqa: F401 - fixture
from githubstub.factories import Sleeps, client


def test_documented_headers_are_sent(github_stub: GitHubStub) -> None:
    client(github_stub).get_repository()
    headers = github_stub.requests[-1].headers
    assert headers["authorization"] == f"Bearer {WRITE_TOKEN}"
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert headers["user-agent"].startswith("complaints-notify/")


def test_every_stand_in_answer_has_rate_limit_headers(github_stub: GitHubStub) -> None:
    response = httpx.get(f"{github_stub.url}/repos/{REPOSITORY}", headers={"Authorization": f"Bearer {WRITE_TOKEN}"})
    for name in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-used", "x-ratelimit-reset", "x-ratelimit-resource"):
        assert name in response.headers
    missing = httpx.get(f"{github_stub.url}/repos/{REPOSITORY}")
    assert missing.status_code == 401 and missing.json()["message"] == "Requires authentication"
    assert "x-ratelimit-remaining" in missing.headers


def test_list_follows_the_link_header_and_skips_pull_requests(github_stub: GitHubStub) -> None:
    repo = github_stub.repos[REPOSITORY]
    for n in range(230):
        if n % 50 == 7:
            github_stub.add_pull_request(repo, f"pr {n}", "body")
        else:
            github_stub.add_issue(repo, f"issue {n}", "body", state="closed" if n % 3 else "open")
    issues = client(github_stub).list_issues()
    assert len(issues) == 230 - 5
    assert all("pull_request" not in i for i in issues)
    assert [i["number"] for i in issues] == sorted(i["number"] for i in issues)
    pages = [r for r in github_stub.requests if r.method == "GET"]
    assert len(pages) == 3
    assert pages[0].path == f"/repos/{REPOSITORY}/issues" and pages[0].query["per_page"] == "100"
    assert pages[1].path == f"/repositories/{repo.id}/issues" and pages[1].query["page"] == "2"


def test_stand_in_link_header_has_first_prev_next_last(github_stub: GitHubStub) -> None:
    repo = github_stub.repos[REPOSITORY]
    for n in range(25):
        github_stub.add_issue(repo, f"issue {n}", "")
    auth = {"Authorization": f"Bearer {WRITE_TOKEN}"}
    middle = httpx.get(f"{github_stub.url}/repos/{REPOSITORY}/issues", params={"per_page": 10, "page": 2}, headers=auth)
    assert set(middle.links) == {"first", "prev", "next", "last"}
    assert "page=3" in middle.links["next"]["url"] and "page=3" in middle.links["last"]["url"]
    last = httpx.get(middle.links["last"]["url"], headers=auth)
    assert set(last.links) == {"first", "prev"} and len(last.json()) == 5


def test_a_link_to_another_host_is_not_followed(github_stub: GitHubStub) -> None:
    repo = github_stub.repos[REPOSITORY]
    for n in range(3):
        github_stub.add_issue(repo, f"issue {n}", "")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[], headers={"Link": '<https://evil.example/steal?page=2>; rel="next"'})

    c = GitHubClient(WRITE_TOKEN, REPOSITORY, sleep=Sleeps(), clock=time.time, transport=httpx.MockTransport(handler))
    with pytest.raises(Exception, match="another host"):
        c.list_issues()


def test_label_already_existing_is_not_an_error(github_stub: GitHubStub) -> None:
    c = client(github_stub)
    assert c.create_label("overdue", "d73a4a", "late") is True
    assert c.create_label("Overdue", "d73a4a", "late") is False
    answer = github_stub.requests[-1]
    assert answer.status == 422


def test_missing_token(github_stub: GitHubStub) -> None:
    with pytest.raises(AuthenticationError, match="GITHUB_TOKEN"):
        client(github_stub, token="")


def test_bad_token_is_a_clear_error_without_the_token(github_stub: GitHubStub) -> None:
    secret = "ghp_notARealTokenButSecret1234567890"
    with pytest.raises(AuthenticationError) as caught:
        client(github_stub, token=secret).list_issues()
    assert "401 Bad credentials" in str(caught.value)
    assert secret not in str(caught.value) and secret not in repr(caught.value)
    assert secret not in repr(client(github_stub, token=secret))


def test_unknown_repository_is_404_with_a_hint(github_stub: GitHubStub) -> None:
    with pytest.raises(NotFoundError, match="example-org/nope not found.*GITHUB_REPOSITORY"):
        client(github_stub, repository="example-org/nope").get_repository()


def test_read_only_token_is_a_permission_error_not_a_rate_limit(github_stub: GitHubStub) -> None:
    sleeps = Sleeps()
    with pytest.raises(PermissionDeniedError, match="Resource not accessible by integration.*issues: write"):
        client(github_stub, token=READ_TOKEN, sleeps=sleeps).create_issue("t", "b", [], [])
    assert sleeps == []  # a missing permission is not waited for


def test_repository_name_must_be_owner_slash_name(github_stub: GitHubStub) -> None:
    with pytest.raises(Exception, match="GITHUB_REPOSITORY is not set"):
        client(github_stub, repository="")
    with pytest.raises(Exception, match="owner/name"):
        client(github_stub, repository="../../x")


def test_429_with_retry_after_is_honoured(github_stub: GitHubStub) -> None:
    github_stub.fail_next("retry_after_429", retry_after=17)
    sleeps = Sleeps()
    assert client(github_stub, sleeps=sleeps).get_repository()["full_name"] == REPOSITORY
    assert sleeps == [17.0]
    assert [r.status for r in github_stub.requests] == [429, 200]


def test_primary_rate_limit_waits_for_the_reset(github_stub: GitHubStub) -> None:
    github_stub.fail_next("primary", reset_in=300)
    sleeps = Sleeps()
    client(github_stub, sleeps=sleeps).get_repository()
    assert len(sleeps) == 1 and 299 <= sleeps[0] <= 302
    first = github_stub.requests[0]
    assert first.status == 403


def test_secondary_rate_limit_without_retry_after_backs_off_exponentially_with_a_cap(github_stub: GitHubStub) -> None:
    github_stub.fail_next("secondary", times=5)
    sleeps = Sleeps()
    retry = RetryPolicy(rate_limit_retries=6, backoff_start=60, backoff_cap=300)
    client(github_stub, sleeps=sleeps, retry=retry).get_repository()
    assert sleeps == [60, 120, 240, 300, 300]


def test_secondary_rate_limit_with_retry_after(github_stub: GitHubStub) -> None:
    github_stub.fail_next("secondary", retry_after=5)
    sleeps = Sleeps()
    client(github_stub, sleeps=sleeps).get_repository()
    assert sleeps == [5.0]


def test_rate_limit_gives_up_after_the_allowed_waits(github_stub: GitHubStub) -> None:
    github_stub.fail_next("retry_after_429", times=10, retry_after=1)
    sleeps = Sleeps()
    with pytest.raises(RateLimitedError, match="still rate limited after 2 waits"):
        client(github_stub, sleeps=sleeps, retry=RetryPolicy(rate_limit_retries=2)).get_repository()
    assert sleeps == [1.0, 1.0]


def test_a_reset_too_far_away_is_not_waited_for(github_stub: GitHubStub) -> None:
    github_stub.fail_next("primary", reset_in=7200)
    sleeps = Sleeps()
    with pytest.raises(RateLimitedError, match="resets in"):
        client(github_stub, sleeps=sleeps).get_repository()
    assert sleeps == []


@pytest.mark.parametrize("kind", ["server_error", "bad_gateway", "drop"])
def test_5xx_and_dropped_connections_are_retried(github_stub: GitHubStub, kind: str) -> None:
    github_stub.fail_next(kind, times=2)
    sleeps = Sleeps()
    client(github_stub, sleeps=sleeps).get_repository()
    assert sleeps == [2.0, 4.0]


@pytest.mark.parametrize("kind", ["server_error", "drop"])
def test_a_bounded_number_of_retries(github_stub: GitHubStub, kind: str) -> None:
    github_stub.fail_next(kind, times=10)
    sleeps = Sleeps()
    with pytest.raises(UnavailableError, match="after 4 tries"):
        client(github_stub, sleeps=sleeps).get_repository()
    assert len(sleeps) == 3 and len(github_stub.requests) == 4


def test_writes_are_paced_a_second_apart(github_stub: GitHubStub) -> None:
    sleeps = Sleeps()
    c = client(github_stub, sleeps=sleeps)
    c.create_issue("a", "b", [], [])
    c.list_issues()
    c.create_issue("c", "d", [], [])
    assert len(sleeps) == 1 and 0.5 < sleeps[0] <= 1.0


def test_invalid_assignee_is_a_validation_error(github_stub: GitHubStub) -> None:
    from complaints.adapters.github import ValidationError

    with pytest.raises(ValidationError) as caught:
        client(github_stub).create_issue("t", "b", [], ["not-a-collaborator"])
    assert caught.value.has_code("invalid", "assignees")
