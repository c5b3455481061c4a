"""A small client for the parts of the GitHub REST API that `complaints notify` uses.

Requests go out one at a time. Rate limits are handled as GitHub documents them: on 403/429 a
`retry-after` header is honoured, else the reset time when `x-ratelimit-remaining` is 0, else an
exponential wait starting at a minute; 5xx answers and dropped connections are retried a few
times. The sleep function and the clock are parameters, so tests run without waiting and the
library never reads the clock itself. The token is held privately and never appears in a
message, an exception or a repr.
"""
from __future__ import annotations

import email.utils
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from complaints import __version__
from complaints.errors import GitHubError

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
USER_AGENT = f"complaints-notify/{__version__}"
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
# A rate-limit header asking for a longer wait than this is not a rate limit GitHub would set:
# it is treated as absent, and the bounded exponential back-off applies instead.
PLAUSIBLE_WAIT = 86400.0
# An error message from the server is shown to people: at most this many characters of it.
MESSAGE_LIMIT = 200
# 1,000 pages of 100 issues: far beyond any complaint repository, short of a loop without end.
MAX_PAGES = 1000
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")

JSON = dict[str, Any]


class AuthenticationError(GitHubError):
    """The token is missing or GitHub rejected it (401)."""


class PermissionDeniedError(GitHubError):
    """The token is valid but may not do this (403 that is not a rate limit)."""


class NotFoundError(GitHubError):
    """The repository (or an issue in it) does not exist or the token cannot see it (404)."""


class ValidationError(GitHubError):
    """GitHub refused the request's content (422 Validation Failed)."""

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.errors = errors

    def has_code(self, code: str, field: str | None = None) -> bool:
        return any(
            e.get("code") == code and (field is None or e.get("field") == field) for e in self.errors
        )


class RateLimitedError(GitHubError):
    """Still rate limited after the allowed waits, or the wait would be too long."""


class UnavailableError(GitHubError):
    """GitHub answered 5xx or the connection failed, more often than the retries allow."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often to wait. Times in seconds."""

    rate_limit_retries: int = 5  # waits for a rate limit before giving up
    backoff_start: float = 60.0  # first wait for a secondary limit without retry-after
    backoff_cap: float = 900.0  # longest exponential wait
    max_wait: float = 3660.0  # a reset further away than this is not waited for
    server_retries: int = 3  # retries of a 5xx answer or a dropped connection
    server_backoff: float = 2.0  # first wait before such a retry; doubles each time
    write_interval: float = 1.0  # GitHub asks for a second between content-creating requests


def check_repository(name: str) -> str:
    """`owner/name`, as GITHUB_REPOSITORY holds it; anything else is a ConfigError-like GitHubError."""
    if not name:
        raise GitHubError("GITHUB_REPOSITORY is not set: give the repository as owner/name")
    if not _REPOSITORY.match(name):
        raise GitHubError(f"GITHUB_REPOSITORY must be owner/name, not {name!r}")
    return name


class GitHubClient:
    """One repository on one GitHub API host, with one token.

    Example:
        client = GitHubClient(token, "example-org/complaints", sleep=time.sleep, clock=time.time)
        for issue in client.list_issues(): ...
    """

    def __init__(
        self,
        token: str,
        repository: str,
        *,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        api_url: str = DEFAULT_API_URL,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not token:
            raise AuthenticationError(
                "no GitHub token: set GITHUB_TOKEN (in a workflow: GITHUB_TOKEN: ${{ github.token }})"
            )
        self.repository = check_repository(repository)
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        try:
            parts = urlsplit(self.api_url)
            has_credentials = parts.username is not None or parts.password is not None
        except ValueError:
            raise GitHubError("GITHUB_API_URL is not an http(s) URL") from None
        # The value is never echoed: a URL typed with user:password@ would print the secret.
        if has_credentials:
            raise GitHubError("GITHUB_API_URL must not hold a user name or password (user:secret@host); give the token in GITHUB_TOKEN")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise GitHubError("GITHUB_API_URL is not an http(s) URL")
        self._origin = (parts.scheme, parts.netloc)
        self._sleep = sleep
        self._clock = clock
        self.retry = retry or RetryPolicy()
        self._last_write: float | None = None
        self._http = httpx.Client(
            base_url=self.api_url + "/",
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": USER_AGENT,
            },
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"GitHubClient(repository={self.repository!r}, api_url={self.api_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- endpoints -----------------------------------------------------------------------------

    def get_repository(self) -> JSON:
        return self._json(self._request("GET", self._repo_path()))

    def list_issues(self, *, state: str = "all", labels: str | None = None) -> list[JSON]:
        """Every issue (not pull request) of the repository, following the Link header."""
        params: dict[str, str] = {"state": state, "per_page": "100", "sort": "created", "direction": "asc"}
        if labels:
            params["labels"] = labels
        return [item for item in self._paginate(self._repo_path("issues"), params) if "pull_request" not in item]

    def list_labels(self) -> list[JSON]:
        return list(self._paginate(self._repo_path("labels"), {"per_page": "100"}))

    def create_label(self, name: str, color: str, description: str) -> bool:
        """Create a label; False when it already exists (GitHub's 422 already_exists)."""
        try:
            self._request("POST", self._repo_path("labels"), json={"name": name, "color": color, "description": description})
        except ValidationError as exc:
            if exc.has_code("already_exists"):
                return False
            raise
        return True

    def create_issue(self, title: str, body: str, labels: list[str], assignees: list[str]) -> JSON:
        payload: JSON = {"title": title, "body": body, "labels": labels}
        if assignees:
            payload["assignees"] = assignees
        return self._json(self._request("POST", self._repo_path("issues"), json=payload))

    def update_issue(self, number: int, fields: Mapping[str, Any]) -> JSON:
        return self._json(self._request("PATCH", self._repo_path(f"issues/{number}"), json=dict(fields)))

    def create_comment(self, number: int, body: str) -> JSON:
        return self._json(self._request("POST", self._repo_path(f"issues/{number}/comments"), json={"body": body}))

    # --- plumbing ------------------------------------------------------------------------------

    def _repo_path(self, rest: str = "") -> str:
        path = f"repos/{self.repository}"
        return f"{path}/{rest}" if rest else path

    @staticmethod
    def _json(response: httpx.Response) -> JSON:
        data = response.json()
        if not isinstance(data, dict):
            raise GitHubError(f"unexpected answer from GitHub to {response.request.method} {response.request.url.path}")
        return data

    def _paginate(self, path: str, params: dict[str, str]) -> Iterator[JSON]:
        response = self._request("GET", path, params=params)
        seen: set[str] = set()
        pages = 1
        while True:
            data = response.json()
            if not isinstance(data, list):
                raise GitHubError(f"unexpected answer from GitHub to GET {response.request.url.path}: not a list")
            yield from (item for item in data if isinstance(item, dict))
            next_url = response.links.get("next", {}).get("url")
            if not next_url:
                return
            try:
                url = httpx.URL(next_url)
            except (httpx.InvalidURL, ValueError):
                raise GitHubError("GitHub's Link header holds an address that cannot be read; not following it") from None
            # The token goes only to the API host it was given for, and never with credentials
            # of someone else's in the address (httpx's netloc leaves the user:password@ out).
            if url.userinfo or (url.scheme, url.netloc.decode("ascii")) != self._origin:
                raise GitHubError(f"GitHub's Link header points to another host ({url.host}); not following it")
            # A server that links pages in a circle, or without end, is not followed forever.
            pages += 1
            if str(url) in seen or pages > MAX_PAGES:
                raise GitHubError(f"GitHub's Link header for {_display_path(path, self.api_url)} loops or exceeds {MAX_PAGES} pages; stopped")
            seen.add(str(url))
            response = self._request("GET", str(url))

    def _pace_write(self, method: str) -> None:
        if method == "GET":
            return
        now = self._clock()
        if self._last_write is not None:
            gap = self.retry.write_interval - (now - self._last_write)
            if gap > 0:
                self._sleep(gap)
        self._last_write = self._clock()

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        rate_waits = 0
        backoff_waits = 0
        server_tries = 0
        what = f"{method} {_display_path(url, self.api_url)}"
        while True:
            self._pace_write(method)
            try:
                response = self._http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                server_tries += 1
                if server_tries > self.retry.server_retries:
                    raise UnavailableError(
                        f"{what}: GitHub could not be reached ({type(exc).__name__}) after {server_tries} tries"
                    ) from None
                self._sleep(self.retry.server_backoff * 2 ** (server_tries - 1))
                continue
            status = response.status_code
            if status < 300:
                return response
            message, errors = _error_body(response)
            if status in (403, 429) and _is_rate_limit(response, message):
                wait, backoff = self._rate_limit_wait(response, backoff_waits)
                backoff_waits += backoff
                rate_waits += 1
                if rate_waits > self.retry.rate_limit_retries:
                    raise RateLimitedError(f"{what}: still rate limited after {self.retry.rate_limit_retries} waits")
                if wait > self.retry.max_wait:
                    raise RateLimitedError(
                        f"{what}: rate limited; the limit resets in {wait:.0f} s, longer than the {self.retry.max_wait:.0f} s this run waits"
                    )
                self._sleep(wait)
                continue
            if status >= 500:
                server_tries += 1
                if server_tries > self.retry.server_retries:
                    raise UnavailableError(f"{what}: GitHub answered {status} {message} after {server_tries} tries")
                self._sleep(self.retry.server_backoff * 2 ** (server_tries - 1))
                continue
            raise _error_for(status, what, message, errors, self.repository)

    def _rate_limit_wait(self, response: httpx.Response, earlier_backoffs: int) -> tuple[float, int]:
        """Seconds to wait, and 1 when that wait is a step of the exponential backoff.

        The headers come from the network: a value that is not a plain, finite, non-negative
        number of seconds (or an HTTP date, for retry-after), or that asks for more than a day,
        is treated as absent rather than trusted."""
        retry_after = _retry_after_seconds(response.headers.get("retry-after"), self._clock)
        if retry_after is not None:
            return retry_after, 0
        if response.headers.get("x-ratelimit-remaining", "").strip() == "0":
            reset = _plain_seconds(response.headers.get("x-ratelimit-reset"))
            if reset is not None:
                wait = max(reset - self._clock(), 0.0)
                if wait <= PLAUSIBLE_WAIT:
                    # One second more: the reset time is rounded down to the second.
                    return wait + 1.0, 0
        return float(min(self.retry.backoff_start * 2**earlier_backoffs, self.retry.backoff_cap)), 1


def _plain_seconds(value: str | None) -> float | None:
    """A header holding a plain non-negative decimal number, or None (absent, NaN, negative,
    exponent notation, text...)."""
    if value is None:
        return None
    text = value.strip()
    if not re.fullmatch(r"[0-9]{1,15}(?:\.[0-9]{1,9})?", text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def _retry_after_seconds(value: str | None, clock: Callable[[], float]) -> float | None:
    """Retry-After as seconds to wait (RFC 9110: delay-seconds or an HTTP date), or None when
    it is absent or not a plausible wait."""
    if value is None:
        return None
    seconds = _plain_seconds(value)
    if seconds is None and re.fullmatch(r"[A-Za-z]{3}, [0-9]{2} [A-Za-z]{3} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT", value.strip()):
        try:
            when = email.utils.parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        seconds = max(when.timestamp() - clock(), 0.0)
    if seconds is None or seconds > PLAUSIBLE_WAIT:
        return None
    return seconds


def safe_message(text: str) -> str:
    """Text from the server made safe to print: no control or bidirectional characters (a
    terminal escape sequence could rewrite what the reader sees), at most MESSAGE_LIMIT
    characters."""
    flat = _CONTROL.sub(" ", text).strip()
    return flat if len(flat) <= MESSAGE_LIMIT else flat[: MESSAGE_LIMIT - 1] + "…"


def _display_path(url: str, api_url: str) -> str:
    """The request path without host or query: never anything secret."""
    path = httpx.URL(url).path if "://" in url else "/" + url
    base = urlsplit(api_url).path.rstrip("/")
    return path[len(base):] if base and path.startswith(base) else path


def _error_body(response: httpx.Response) -> tuple[str, list[dict[str, Any]]]:
    try:
        data = response.json()
    except ValueError:
        return safe_message(response.reason_phrase or "error"), []
    if not isinstance(data, dict):
        return safe_message(response.reason_phrase or "error"), []
    message = safe_message(str(data.get("message") or response.reason_phrase or "error"))
    raw_errors = data.get("errors")
    errors = [e for e in raw_errors if isinstance(e, dict)] if isinstance(raw_errors, list) else []
    return message, errors


def _is_rate_limit(response: httpx.Response, message: str) -> bool:
    """GitHub's own distinction between a rate limit and a missing permission."""
    headers = response.headers
    if response.status_code == 429:
        return True
    return (
        headers.get("x-ratelimit-remaining") == "0"
        or "retry-after" in headers
        or "rate limit" in message.lower()
    )


def _error_for(status: int, what: str, message: str, errors: list[dict[str, Any]], repository: str) -> GitHubError:
    if status == 401:
        return AuthenticationError(f"{what}: GitHub rejected the token (401 {message}); check GITHUB_TOKEN")
    if status == 404:
        return NotFoundError(
            f"{what}: 404 {message}: repository {repository} not found, or the token cannot see it; check GITHUB_REPOSITORY"
        )
    if status == 403:
        return PermissionDeniedError(
            f"{what}: 403 {message}: the token lacks a permission (the notify job needs issues: write)"
        )
    if status == 422:
        details = ", ".join(
            "/".join(str(e.get(k)) for k in ("resource", "field", "code") if e.get(k)) for e in errors
        )
        return ValidationError(f"{what}: 422 {message}" + (f" ({details})" if details else ""), errors)
    return GitHubError(f"{what}: GitHub answered {status} {message}")
