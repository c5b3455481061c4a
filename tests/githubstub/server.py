"""A local stand-in for the parts of the GitHub REST API that `complaints notify` uses.

Written from GitHub's REST documentation (issues, labels, comments, repositories, pagination,
rate limits, error bodies). It listens on 127.0.0.1 on a random port and keeps everything in
memory. What it does as GitHub does:

* authentication: `Authorization: Bearer TOKEN` (or `token TOKEN`); no header → 401 "Requires
  authentication"; an unknown token → 401 "Bad credentials"; a repository the token cannot see
  → 404 "Not Found"; a write with a read-only token → 403 "Resource not accessible by
  integration" (ordinary rate-limit headers, so it is not mistaken for a rate limit);
* an unsupported `X-GitHub-Api-Version` → 400;
* every answer carries x-ratelimit-limit/remaining/used/reset/resource; errors are
  `{"message", "documentation_url", "status"}`; 422 is `Validation Failed` with `errors`;
* list issues returns issues and pull requests mixed (pull requests have a `pull_request`
  key), honours state, labels, sort, direction, per_page (max 100) and page, and links pages
  with a Link header (first/prev/next/last) whose URLs use `/repositories/{id}/...` as GitHub's do;
* creating an issue with labels that do not exist creates them; an assignee who may not be
  assigned is a 422 `invalid` on `assignees`; creating an existing label is a 422 `already_exists`.

Faults are programmed per test: `fail_next(...)` queues answers (429 with retry-after, primary
and secondary rate limits, 5xx, a dropped connection, an answer lost after the request was
carried out, 401, 404, 403); `fail_writes_after(n)`
lets n writes through and then fails every write (a crash half way); `hold_lists(n)` makes the
first n list requests wait for each other (two runs listing at the same moment).
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

DOCS = "https://docs.github.com/rest"
SUPPORTED_VERSIONS = {"2022-11-28"}
RATE_LIMIT = 5000
PRIMARY_DOC = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits"
SECONDARY_DOC = "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"


@dataclass
class Fault:
    # retry_after_429, primary, secondary, server_error, bad_gateway, drop (before the request is
    # carried out), drop_answer (after), bad_credentials, not_found, no_permission
    kind: str
    method: str | None = None
    path: str | None = None  # a regular expression searched in the request path
    retry_after: int | str | None = None  # a string sends that text as it is (a hostile header)
    reset_in: int = 60
    reset_header: str | None = None  # x-ratelimit-reset sent as this text instead of a time
    remaining: int = 1


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class Repository:
    owner: str
    name: str
    id: int
    issues: list[dict[str, Any]] = field(default_factory=list)  # issues and pull requests, by number
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower-case name → label
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class GitHubStub:
    """The stand-in's state and controls; `url` is the API base URL to give the client."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.repos: dict[str, Repository] = {}
        self.tokens: dict[str, tuple[str, set[str]]] = {}  # token → (permission, repositories)
        self.assignable: set[str] = set()
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.writes_allowed: int | None = None
        self.write_fault = "server_error"
        self.used = 0
        self.reset_at = int(time.time()) + 3600
        self._ids = itertools.count(1000)
        self._barrier: threading.Barrier | None = None
        self._barrier_left = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), name="github-stub", daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    # --- set-up --------------------------------------------------------------------------------

    def start(self) -> GitHubStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def add_repo(self, full_name: str) -> Repository:
        owner, name = full_name.split("/")
        repo = Repository(owner, name, next(self._ids))
        self.repos[full_name.lower()] = repo
        return repo

    def add_token(self, token: str, permission: str, *repos: str) -> None:
        self.tokens[token] = (permission, {r.lower() for r in repos})

    def fail_next(self, kind: str, times: int = 1, **options: Any) -> None:
        with self.lock:
            self.faults.extend(Fault(kind, **options) for _ in range(times))

    def fail_writes_after(self, n: int | None, kind: str = "server_error") -> None:
        with self.lock:
            self.writes_allowed = n
            self.write_fault = kind

    def hold_lists(self, parties: int, timeout: float = 5.0) -> None:
        self._barrier = threading.Barrier(parties, timeout=timeout)
        self._barrier_left = parties

    def add_pull_request(self, repo: Repository, title: str, body: str) -> dict[str, Any]:
        with self.lock:
            item = self._new_issue(repo, title, body, [], [], "someone")
            item["pull_request"] = {
                "url": f"{self.url}/repos/{repo.full_name}/pulls/{item['number']}",
                "html_url": f"https://github.com/{repo.full_name}/pull/{item['number']}",
                "merged_at": None,
            }
            return item

    def add_issue(self, repo: Repository, title: str, body: str, *, state: str = "open", labels: list[str] | None = None) -> dict[str, Any]:
        with self.lock:
            item = self._new_issue(repo, title, body, labels or [], [], "someone")
            if state == "closed":
                item.update(state="closed", state_reason="completed", closed_at=_now())
            return item

    # --- views for assertions -----------------------------------------------------------------

    def issues(self, repo: Repository, state: str = "all") -> list[dict[str, Any]]:
        with self.lock:
            return [i for i in repo.issues if "pull_request" not in i and (state == "all" or i["state"] == state)]

    def writes(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method != "GET"]

    # --- internals -----------------------------------------------------------------------------

    def rate_headers(self, remaining: int | None = None, reset: int | None = None) -> dict[str, str]:
        left = max(RATE_LIMIT - self.used, 0) if remaining is None else remaining
        return {
            "x-ratelimit-limit": str(RATE_LIMIT),
            "x-ratelimit-remaining": str(left),
            "x-ratelimit-used": str(RATE_LIMIT - left),
            "x-ratelimit-reset": str(self.reset_at if reset is None else reset),
            "x-ratelimit-resource": "core",
        }

    def label_json(self, repo: Repository, name: str, color: str = "ededed", description: str | None = None) -> dict[str, Any]:
        key = name.lower()
        if key not in repo.labels:
            label_id = next(self._ids)
            repo.labels[key] = {
                "id": label_id,
                "node_id": f"LA_{label_id}",
                "url": f"{self.url}/repos/{repo.full_name}/labels/{name}",
                "name": name,
                "color": color,
                "default": False,
                "description": description,
            }
        return repo.labels[key]

    def _new_issue(self, repo: Repository, title: str, body: str | None, labels: list[str], assignees: list[str], user: str) -> dict[str, Any]:
        number = len(repo.issues) + 1
        issue_id = next(self._ids)
        now = _now()
        item: dict[str, Any] = {
            "id": issue_id,
            "node_id": f"I_{issue_id}",
            "url": f"{self.url}/repos/{repo.full_name}/issues/{number}",
            "repository_url": f"{self.url}/repos/{repo.full_name}",
            "html_url": f"https://github.com/{repo.full_name}/issues/{number}",
            "number": number,
            "state": "open",
            "state_reason": None,
            "title": title,
            "body": body,
            "user": {"login": user, "id": 1, "type": "Bot" if user.endswith("[bot]") else "User"},
            "labels": [self.label_json(repo, name) for name in labels],
            "assignee": None,
            "assignees": [],
            "locked": False,
            "comments": 0,
            "created_at": now,
            "updated_at": now,
            "closed_at": None,
            "author_association": "NONE",
        }
        _set_assignees(item, assignees)
        repo.issues.append(item)
        return item


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _set_assignees(item: dict[str, Any], logins: list[str]) -> None:
    item["assignees"] = [{"login": login, "id": abs(hash(login)) % 10**6, "type": "User"} for login in logins]
    item["assignee"] = item["assignees"][0] if item["assignees"] else None


class _Answer(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = headers or {}


class _Drop(Exception):
    pass


def _error(status: int, message: str, doc: str = DOCS, **extra: Any) -> _Answer:
    return _Answer(status, {"message": message, "documentation_url": doc, "status": str(status), **extra})


def _validation_failed(doc: str, *errors: dict[str, Any]) -> _Answer:
    return _Answer(422, {"message": "Validation Failed", "errors": list(errors), "documentation_url": doc, "status": "422"})


def _make_handler(stub: GitHubStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in one write: no small-packet delays on keep-alive connections.
        wbufsize = 1 << 16
        disable_nagle_algorithm = True
        server_version = "GitHub.com"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet in tests
            pass

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def do_PATCH(self) -> None:
            self._handle()

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = "<invalid json>"
            record = RecordedRequest(
                self.command, parts.path, dict(parse_qsl(parts.query)), {k.lower(): v for k, v in self.headers.items()}, body
            )
            with stub.lock:
                stub.requests.append(record)
            try:
                status, payload, headers = self._dispatch(record)
            except _Drop:
                record.status = -1
                self.close_connection = True
                return
            except _Answer as answer:
                status, payload, headers = answer.status, answer.body, answer.headers
            record.status = status
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            with stub.lock:
                rate = stub.rate_headers()
            for name, value in {**rate, **headers}.items():
                self.send_header(name, value)
            self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
            self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
            if payload is not None:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _dispatch(self, req: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
            if self._fault(req) == "drop_answer":
                self._process(req)  # carried out, but the answer is lost on the way back
                raise _Drop()
            return self._process(req)

        def _process(self, req: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
            token = self._authenticate(req)
            version = req.headers.get("x-github-api-version")
            if version is not None and version not in SUPPORTED_VERSIONS:
                raise _error(400, f"Unsupported 'X-GitHub-Api-Version' header: {version}")
            repo, rest = self._route_repo(req.path, token)
            with stub.lock:
                stub.used += 1
            if req.method != "GET":
                self._check_write(req, token)
            return _endpoint(stub, repo, rest, req)

        def _fault(self, req: RecordedRequest) -> str | None:
            with stub.lock:
                fault = next(
                    (
                        f
                        for f in stub.faults
                        if (f.method is None or f.method == req.method) and (f.path is None or re.search(f.path, req.path))
                    ),
                    None,
                )
                if fault is not None:
                    stub.faults.remove(fault)
            if fault is None:
                return None
            if fault.kind == "drop_answer":
                return fault.kind
            _raise_fault(stub, fault)
            return None

        def _authenticate(self, req: RecordedRequest) -> str:
            header = req.headers.get("authorization", "")
            match = re.fullmatch(r"(?:Bearer|token) (\S+)", header)
            if match is None:
                raise _error(401, "Requires authentication")
            if match.group(1) not in stub.tokens:
                raise _error(401, "Bad credentials")
            return match.group(1)

        def _route_repo(self, path: str, token: str) -> tuple[Repository, str]:
            match = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", path) or re.fullmatch(r"/repositories/(\d+)()(/.*)?", path)
            if match is None:
                raise _error(404, "Not Found")
            if path.startswith("/repositories/"):
                repo = next((r for r in stub.repos.values() if str(r.id) == match.group(1)), None)
            else:
                repo = stub.repos.get(f"{match.group(1)}/{match.group(2)}".lower())
            _, visible = stub.tokens[token]
            if repo is None or repo.full_name.lower() not in visible:
                raise _error(404, "Not Found", "https://docs.github.com/rest/repos/repos#get-a-repository")
            return repo, match.group(3) or ""

        def _check_write(self, req: RecordedRequest, token: str) -> None:
            permission, _ = stub.tokens[token]
            if permission != "write":
                raise _error(403, "Resource not accessible by integration", "https://docs.github.com/rest/issues/issues#create-an-issue")
            with stub.lock:
                if stub.writes_allowed is not None:
                    if stub.writes_allowed <= 0:
                        fault = Fault(stub.write_fault)
                    else:
                        stub.writes_allowed -= 1
                        fault = None
                else:
                    fault = None
            if fault is not None:
                _raise_fault(stub, fault)

    return Handler


def _raise_fault(stub: GitHubStub, fault: Fault) -> None:
    kind = fault.kind
    if kind == "drop":
        raise _Drop()
    if kind == "retry_after_429":
        raise _Answer(
            429,
            {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", "documentation_url": SECONDARY_DOC, "status": "429"},
            {"retry-after": str(fault.retry_after if fault.retry_after is not None else 30)},
        )
    if kind == "primary":
        reset = int(time.time()) + fault.reset_in
        headers = stub.rate_headers(remaining=0, reset=reset)
        if fault.reset_header is not None:
            headers["x-ratelimit-reset"] = fault.reset_header
        raise _Answer(
            403,
            {"message": "API rate limit exceeded for installation ID 1.", "documentation_url": PRIMARY_DOC, "status": "403"},
            headers,
        )
    if kind == "secondary":
        headers = {"retry-after": str(fault.retry_after)} if fault.retry_after is not None else {}
        raise _Answer(
            403,
            {
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
                "If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.",
                "documentation_url": SECONDARY_DOC,
                "status": "403",
            },
            headers,
        )
    if kind == "server_error":
        raise _error(500, "Server Error")
    if kind == "bad_gateway":
        raise _Answer(502, {"message": "Server Error"})
    if kind == "bad_credentials":
        raise _error(401, "Bad credentials")
    if kind == "not_found":
        raise _error(404, "Not Found")
    if kind == "no_permission":
        raise _error(403, "Resource not accessible by integration")
    raise ValueError(f"unknown fault {kind}")


def _page_links(stub: GitHubStub, repo: Repository, rest: str, query: dict[str, str], page: int, last: int) -> str:
    def link(p: int, rel: str) -> str:
        q = {k: v for k, v in query.items() if k != "page"}
        q["page"] = str(p)
        return f'<{stub.url}/repositories/{repo.id}{rest}?{urlencode(q)}>; rel="{rel}"'

    links = []
    if page > 1:
        links += [link(page - 1, "prev")]
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        links += [link(1, "first")]
    return ", ".join(links)


def _paginate(stub: GitHubStub, repo: Repository, rest: str, req: RecordedRequest, items: list[dict[str, Any]]) -> tuple[int, Any, dict[str, str]]:
    try:
        per_page = min(max(int(req.query.get("per_page", "30")), 1), 100)
        page = max(int(req.query.get("page", "1")), 1)
    except ValueError:
        raise _error(422, "Invalid request.") from None
    last = max((len(items) + per_page - 1) // per_page, 1)
    chunk = items[(page - 1) * per_page : page * per_page]
    headers = {}
    links = _page_links(stub, repo, rest, req.query, page, last)
    if links:
        headers["Link"] = links
    return 200, json.loads(json.dumps(chunk)), headers


def _endpoint(stub: GitHubStub, repo: Repository, rest: str, req: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
    issue_doc = "https://docs.github.com/rest/issues/issues"
    body = req.body if isinstance(req.body, dict) else {}
    with stub.lock:
        if rest == "" and req.method == "GET":
            return 200, {
                "id": repo.id,
                "node_id": f"R_{repo.id}",
                "name": repo.name,
                "full_name": repo.full_name,
                "private": True,
                "owner": {"login": repo.owner, "type": "Organization"},
                "html_url": f"https://github.com/{repo.full_name}",
                "has_issues": True,
                "default_branch": "main",
            }, {}
        if rest == "/issues" and req.method == "GET":
            state = req.query.get("state", "open")
            if state not in ("open", "closed", "all"):
                raise _validation_failed(f"{issue_doc}#list-repository-issues", {"resource": "Issue", "field": "state", "code": "invalid"})
            wanted_labels = {l.strip().lower() for l in req.query.get("labels", "").split(",") if l.strip()}
            items = [
                i
                for i in repo.issues
                if (state == "all" or i["state"] == state)
                and wanted_labels <= {label["name"].lower() for label in i["labels"]}
            ]
            sort = req.query.get("sort", "created")
            key = {"created": "number", "updated": "updated_at", "comments": "comments"}.get(sort, "number")
            items.sort(key=lambda i: (i[key], i["number"]), reverse=req.query.get("direction", "desc") == "desc")
            if stub._barrier is not None and req.query.get("page", "1") == "1" and stub._barrier_left > 0:
                stub._barrier_left -= 1
                barrier = stub._barrier
                stub.lock.release()
                try:
                    barrier.wait()
                except threading.BrokenBarrierError:
                    pass
                finally:
                    stub.lock.acquire()
            return _paginate(stub, repo, "/issues", req, items)
        if rest == "/issues" and req.method == "POST":
            title = body.get("title")
            if not isinstance(title, (str, int)) or str(title).strip() == "":
                raise _validation_failed(f"{issue_doc}#create-an-issue", {"resource": "Issue", "code": "missing_field", "field": "title"})
            labels = body.get("labels") or []
            assignees = body.get("assignees") or []
            for login in assignees:
                if login not in stub.assignable:
                    raise _validation_failed(
                        f"{issue_doc}#create-an-issue", {"value": login, "resource": "Issue", "field": "assignees", "code": "invalid"}
                    )
            item = stub._new_issue(repo, str(title), body.get("body"), [str(n) for n in labels], list(assignees), "github-actions[bot]")
            return 201, json.loads(json.dumps(item)), {"Location": item["url"]}
        match = re.fullmatch(r"/issues/(\d+)(/comments)?", rest)
        if match:
            number = int(match.group(1))
            item = next((i for i in repo.issues if i["number"] == number), None)
            if item is None:
                raise _error(404, "Not Found", f"{issue_doc}#get-an-issue")
            if match.group(2) and req.method == "POST":
                text = body.get("body")
                if not isinstance(text, str) or not text:
                    raise _validation_failed(f"{issue_doc}/comments#create-an-issue-comment", {"resource": "IssueComment", "code": "missing_field", "field": "body"})
                comment = {"id": next(stub._ids), "body": text, "user": {"login": "github-actions[bot]"}, "created_at": _now()}
                repo.comments.setdefault(number, []).append(comment)
                item["comments"] += 1
                return 201, comment, {}
            if not match.group(2) and req.method == "PATCH":
                for login in body.get("assignees") or []:
                    if login not in stub.assignable:
                        raise _validation_failed(
                            f"{issue_doc}#update-an-issue", {"value": login, "resource": "Issue", "field": "assignees", "code": "invalid"}
                        )
                if "title" in body:
                    item["title"] = str(body["title"])
                if "body" in body:
                    item["body"] = body["body"]
                if "labels" in body:
                    item["labels"] = [stub.label_json(repo, str(n)) for n in body["labels"] or []]
                if "assignees" in body:
                    _set_assignees(item, list(body["assignees"] or []))
                if "state" in body:
                    if body["state"] not in ("open", "closed"):
                        raise _validation_failed(f"{issue_doc}#update-an-issue", {"resource": "Issue", "field": "state", "code": "invalid"})
                    if body["state"] != item["state"]:
                        item["state"] = body["state"]
                        item["closed_at"] = _now() if body["state"] == "closed" else None
                        reason = body.get("state_reason")
                        item["state_reason"] = reason if reason in ("completed", "not_planned", "reopened") else (
                            "completed" if body["state"] == "closed" else "reopened"
                        )
                item["updated_at"] = _now()
                return 200, json.loads(json.dumps(item)), {}
        if rest == "/labels" and req.method == "GET":
            return _paginate(stub, repo, "/labels", req, sorted(repo.labels.values(), key=lambda l: l["name"].lower()))
        if rest == "/labels" and req.method == "POST":
            name = body.get("name")
            if not isinstance(name, str) or not name:
                raise _validation_failed("https://docs.github.com/rest/issues/labels#create-a-label", {"resource": "Label", "code": "missing_field", "field": "name"})
            if name.lower() in repo.labels:
                raise _validation_failed(
                    "https://docs.github.com/rest/issues/labels#create-a-label", {"resource": "Label", "code": "already_exists", "field": "name"}
                )
            color = str(body.get("color") or "ededed")
            if not re.fullmatch(r"[0-9a-fA-F]{6}", color):
                raise _validation_failed("https://docs.github.com/rest/issues/labels#create-a-label", {"resource": "Label", "code": "invalid", "field": "color"})
            description = body.get("description")
            if isinstance(description, str) and len(description) > 100:
                raise _validation_failed(
                    "https://docs.github.com/rest/issues/labels#create-a-label", {"resource": "Label", "code": "invalid", "field": "description"}
                )
            return 201, stub.label_json(repo, name, color, description), {}
    raise _error(404, "Not Found")
