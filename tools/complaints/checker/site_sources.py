"""The site publishes only what was checked.

Pages and assets under ``site/`` are written by hand and proposed in pull requests like any
other file, so before a build publishes them:

* every file must be a page (``.md``) or an asset of a known type; anything else (a stray
  ``leak.yaml``, an ``.html`` file MkDocs would copy as it is) stops the build;
* every page and asset is scanned for personal data (pii.py), HTML comments included;
* raw HTML in a page may not run code: no ``<script>``, ``<iframe>``, ``<object>``, ``<embed>``,
  ``<style>``, ``<base>``, ``<meta>``, ``<link>`` and the like, no ``on*=`` attribute, no
  ``javascript:``, ``vbscript:`` or ``data:`` address in an attribute or a Markdown link, no
  form that posts elsewhere; an SVG asset is held to the same rules.

A problem names the file and the line, never the value. After MkDocs has built the site,
`check_output` scans what it wrote from the pages (every HTML page's text, the search index,
the sitemap) the same way, as the last line of defence; and the MkDocs hook sanitises every
page's HTML with nh3 (`sanitise_page`), strips HTML comments, and adds the one script the
receipt lookup needs, which no page can name itself.

Hidden files and folders are never published by MkDocs and are not checked; the generated
folders (``site/<lang>/generated/``) are written by this tool, which scans them as it writes.
"""
from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import nh3

from complaints.errors import PublicationError
from complaints.core.pii import scan_text

PAGE_SUFFIXES = frozenset({".md"})
TEXT_ASSET_SUFFIXES = frozenset({".css", ".js", ".svg", ".txt"})  # .txt: the licences of vendored scripts
BINARY_ASSET_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".ico", ".woff", ".woff2"})
ASSET_SUFFIXES = TEXT_ASSET_SUFFIXES | BINARY_ASSET_SUFFIXES
GENERATED = "generated"

# Elements that run code, load another document or change how the page is read.
FORBIDDEN_TAGS = frozenset({
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "link", "meta",
    "template", "noscript", "portal", "foreignobject", "set", "animate", "handler", "listener",
})  # fmt: skip
# A form may only work in the page (the receipt lookup): never send what is typed elsewhere.
FORBIDDEN_ATTRIBUTES = frozenset({"action", "formaction", "srcdoc", "http-equiv"})
_BAD_SCHEME = re.compile(r"^(?:javascript|vbscript|data|livescript|mocha):", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]+")
_STYLE_DANGER = re.compile(r"url\s*\(|expression\s*\(|@import|behavior\s*:|-moz-binding", re.IGNORECASE)
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
_MD_LINK_TARGET = re.compile(r"\]\(\s*<?([^)\s>]*)|^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*\n?[ \t]*<?(\S+?)>?(?:\s|$)|<([A-Za-z][A-Za-z0-9+.-]*:[^\s>]*)>", re.MULTILINE)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)


@dataclass(frozen=True)
class SiteProblem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


def bad_url(value: str) -> bool:
    """An address that would run code or smuggle a document (after entity decoding and with
    the characters browsers ignore removed)."""
    return bool(_BAD_SCHEME.match(_INVISIBLE.sub("", html.unescape(value))))


def _blank_code(text: str) -> str:
    """``text`` with fenced and inline code replaced by spaces (line structure kept): code is
    shown, never run, so what it holds is not raw HTML."""
    out: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if fence is not None:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = None
            out.append(" " * len(line))
            continue
        if match:
            fence = match.group(1)
            out.append(" " * len(line))
            continue
        out.append(_INLINE_CODE.sub(lambda m: " " * len(m.group(0)), line))
    return "\n".join(out)


class _HtmlRules(HTMLParser):
    def __init__(self, source: str, first_line: int = 1) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.first_line = first_line
        self.problems: list[SiteProblem] = []

    def _problem(self, message: str) -> None:
        self.problems.append(SiteProblem(self.source, self.getpos()[0] + self.first_line - 1, message))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        name = tag.lower()
        if name in FORBIDDEN_TAGS:
            self._problem(f"<{name}> is not allowed in a page (it can run code or load another document)")
        for attribute, value in attrs:
            key = attribute.lower()
            if key.startswith("on"):
                self._problem(f"<{name} {key}=...>: event handler attributes are not allowed in a page")
            elif key in FORBIDDEN_ATTRIBUTES:
                self._problem(f"<{name} {key}=...>: not allowed in a page (a form must not send what is typed elsewhere)")
            elif value is not None and bad_url(value):
                self._problem(f"<{name} {key}=...>: javascript:, vbscript: and data: addresses are not allowed")
            elif key == "style" and value is not None and _STYLE_DANGER.search(value):
                self._problem(f"<{name} style=...>: url(), expression(), @import and bindings are not allowed in a style")

    handle_startendtag = handle_starttag


def check_markup(text: str, source: str) -> list[SiteProblem]:
    """Raw HTML and link rules of one page (Markdown) or SVG text."""
    plain = _blank_code(text) if not source.endswith(".svg") else text
    parser = _HtmlRules(source)
    parser.feed(plain)
    parser.close()
    problems = list(parser.problems)
    if not source.endswith(".svg"):
        for match in _MD_LINK_TARGET.finditer(plain):
            group = next(i for i, g in enumerate(match.groups(), 1) if g is not None)
            if bad_url(match.group(group)):
                line = plain.count("\n", 0, match.start(group)) + 1
                problems.append(SiteProblem(source, line, "a link to a javascript:, vbscript: or data: address is not allowed"))
    return problems


# Not anyone's number: the digits in order, as an alphabet in a script spells them.
NOT_PERSONAL: tuple[str, ...] = ("0123456789",)


def _table_run(text: str, kind: str) -> bool:
    """A number made of short groups of digits ("2026-11 0 0 3 0 0 0 0"): the cells of a
    statistics table that a built page or the search index flattened into a line of text,
    not a card, an id or a phone number (people write those whole or in groups of three or
    more; a page's own text is checked before the build, unflattened)."""
    groups = re.findall(r"[0-9]+", text)
    return kind != "email" and (min(len(g) for g in groups) < 3 if groups else False)


def scan_for_personal_data(text: str, source: str, known: tuple[str, ...] = (), *, flattened: bool = False) -> list[SiteProblem]:
    """Every personal-data pattern in ``text`` by line; ``known`` strings (the data's commit
    hash) are left out. ``flattened``: text built from table cells joined by spaces (the
    search index), where runs of short numbers are not read as a card number. The value is
    never part of the message."""
    for token in (*known, *NOT_PERSONAL):
        if token:
            text = text.replace(token, " " * len(token))
    return [
        SiteProblem(source, text.count("\n", 0, f.start) + 1, f"looks like personal data ({f.kind}); nothing was published")
        for f in scan_text(text)
        if not (flattened and _table_run(text[f.start : f.end], f.kind))
    ]


# Third-party files shipped with the tool, known by their content: a licence names its
# authors (with their addresses), which is public, not a complainant's data. A file at one of
# these paths with any other content is checked like every other file.
VENDORED: dict[str, str] = {
    "zh/assets/vendor/age-encryption-0.3.1.min.js": "bb784942cdfac7a70f83d3c0826812c97c679238af912ce0860f99652db2dea9",
    "zh/assets/vendor/age-encryption-0.3.1.LICENSE.txt": "4e1ea1954c181ee8584098752634cc1781d5ff0fd5294e0db1b222fed887222d",
}


def _is_vendored(rel: Path, data: bytes) -> bool:
    return VENDORED.get(rel.as_posix()) == hashlib.sha256(data).hexdigest()


def _is_hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def _is_generated(rel: Path, languages: tuple[str, ...]) -> bool:
    """A file of site/<lang>/generated/, which the tool empties and writes (scanning what it
    writes) at every build; only for the site's own languages."""
    return len(rel.parts) > 2 and rel.parts[0] in languages and rel.parts[1] == GENERATED


def source_problems(docs: Path, docs_name: str = "site", languages: tuple[str, ...] = ("zh", "en")) -> list[SiteProblem]:
    """Every problem of the hand-written files under the docs folder."""
    problems: list[SiteProblem] = []
    if not docs.is_dir():
        return problems
    for path in sorted(docs.rglob("*")):
        rel = path.relative_to(docs)
        if _is_hidden(rel) or _is_generated(rel, languages) or path.is_dir():
            continue
        source = f"{docs_name}/{rel.as_posix()}"
        suffix = path.suffix.lower()
        if path.is_symlink() or not path.is_file():
            problems.append(SiteProblem(source, None, "is not a regular file (a symbolic link?); the site publishes only regular files"))
            continue
        if suffix not in PAGE_SUFFIXES and suffix not in ASSET_SUFFIXES:
            problems.append(SiteProblem(
                source, None,
                "is neither a page (.md) nor an asset of a known type (" + ", ".join(sorted(ASSET_SUFFIXES)) + "); "
                "the site would publish it as it is. Remove it or move it out of the site folder",
            ))  # fmt: skip
            continue
        data = path.read_bytes()
        if _is_vendored(rel, data):
            continue
        if suffix in BINARY_ASSET_SUFFIXES:
            # Metadata (an image's comment or EXIF text) is published too.
            problems += [SiteProblem(source, None, p.message) for p in scan_for_personal_data(data.decode("latin-1"), source)]
            continue
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            problems.append(SiteProblem(source, None, "is not UTF-8 text"))
            continue
        problems += scan_for_personal_data(text, source)
        if suffix in PAGE_SUFFIXES or suffix == ".svg":
            problems += check_markup(text, source)
    return problems


def check_sources(docs: Path, docs_name: str = "site", languages: tuple[str, ...] = ("zh", "en")) -> None:
    """PublicationError naming every problem of the hand-written site files, if any."""
    problems = source_problems(docs, docs_name, languages)
    if problems:
        raise PublicationError("the site was not built:\n" + "\n".join(str(p) for p in problems))


# ---------------------------------------------------------------------------------------------
# What MkDocs wrote


_CELLS = frozenset({"td", "th", "tr"})


class _Text(HTMLParser):
    """The text of an HTML page (what a reader and a search engine see), line by line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "svg"):
            self._skip += 1
        if tag in _CELLS:
            # A reader sees each cell apart: its digits never join the next cell's into one
            # number ("|" is not a separator a number may hold, see core/pii.py).
            self.parts.append(" | ")
        for key, value in attrs:
            if value and key in ("title", "alt", "aria-label", "content", "placeholder", "value"):
                self.parts.append(" " + value + " ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "svg") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)

    def handle_comment(self, data: str) -> None:
        self.parts.append(" " + data + " ")


def page_text(markup: str) -> str:
    parser = _Text()
    parser.feed(markup)
    parser.close()
    return "".join(parts for parts in parser.parts)


def output_problems(out: Path, known: tuple[str, ...] = ()) -> list[SiteProblem]:
    """Personal-data patterns in what the build wrote from the pages: each HTML page's text
    (comments and attributes a reader sees included), the search index and the sitemap. The
    theme's own files and the generated downloads, charts and lookup table (scanned when
    they were written) are not read again."""
    problems: list[SiteProblem] = []
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out)
        if not path.is_file() or _is_hidden(rel):
            continue
        name = rel.as_posix()
        if path.suffix == ".html":
            text = page_text(path.read_text(encoding="utf-8", errors="replace"))
        elif path.name in ("search_index.json", "sitemap.xml"):
            text = path.read_text(encoding="utf-8", errors="replace")
        else:
            continue
        problems += scan_for_personal_data(text, f"(built site)/{name}", known, flattened=True)
    return problems


# ---------------------------------------------------------------------------------------------
# The MkDocs hook's sanitiser

# What Python-Markdown, its extensions and pymdownx produce, plus the receipt lookup's form.
SAFE_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "button", "caption", "code", "col", "colgroup", "dd", "del", "details", "div",
    "dl", "dt", "em", "figcaption", "figure", "form", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "input", "ins",
    "kbd", "label", "li", "mark", "ol", "output", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul", "var", "wbr",
    # The online complaint form's controls (they only work in the page: no action attribute).
    "fieldset", "legend", "select", "option", "optgroup", "textarea",
})  # fmt: skip
SAFE_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"id", "class", "title", "lang", "dir", "role", "hidden", "tabindex", "style"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height", "loading"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "col": {"span"},
    "ol": {"start", "type", "reversed"},
    "li": {"value"},
    "details": {"open"},
    "time": {"datetime"},
    "form": {"autocomplete", "novalidate"},
    "label": {"for"},
    "input": {"type", "name", "inputmode", "spellcheck", "autocapitalize", "autocomplete", "maxlength", "minlength",
              "placeholder", "required", "disabled", "readonly", "value", "size", "pattern", "checked"},
    "button": {"type", "name", "value", "disabled"},
    "textarea": {"name", "rows", "cols", "maxlength", "minlength", "placeholder", "required", "disabled", "readonly",
                 "spellcheck", "autocomplete", "autocapitalize", "inputmode"},
    "select": {"name", "required", "disabled", "multiple", "size", "autocomplete"},
    "option": {"value", "selected", "disabled", "label"},
    "optgroup": {"label", "disabled"},
    "fieldset": {"name", "disabled"},
    "output": {"for", "name"},
}  # fmt: skip
SAFE_STYLES = frozenset({
    "text-align", "width", "height", "vertical-align", "white-space", "min-width", "max-width", "box-sizing", "display",
    "margin", "padding", "border", "border-radius", "color", "font-size", "font-family", "font-weight",
    # The charts' geometry (charts.py): a mark's fraction of the axis and a panel's column count,
    # numbers that site.css reads through var() inside calc() and grid repeat() only.
    "--v", "--n",
})  # fmt: skip
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})


def sanitise_page(markup: str) -> str:
    """A page's HTML (the part Markdown made from the page, not the theme's frame) reduced to
    safe elements, attributes and addresses; comments removed."""
    return str(
        nh3.clean(
            markup,
            tags=set(SAFE_TAGS),
            clean_content_tags={"script", "style", "template", "noscript", "iframe", "object", "embed"},
            attributes={k: set(v) for k, v in SAFE_ATTRIBUTES.items()},
            generic_attribute_prefixes={"data-", "aria-"},
            strip_comments=True,
            link_rel=None,
            url_schemes=set(URL_SCHEMES),
            filter_style_properties=set(SAFE_STYLES),
        )
    )


def strip_comments(markdown: str) -> str:
    """A page's Markdown without its HTML comments (outside code), so none reaches the site."""
    blanked = _blank_code(markdown)
    if "<!--" not in blanked:
        return markdown
    # Remove only comments that start outside code; keep the line count for later messages.
    out = []
    pos = 0
    for match in _COMMENT.finditer(blanked):
        out.append(markdown[pos : match.start()])
        out.append("\n" * markdown.count("\n", match.start(), match.end()))
        pos = match.end()
    out.append(markdown[pos:])
    return "".join(out)
