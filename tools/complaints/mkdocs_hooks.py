"""MkDocs hooks for the published site (declared under `hooks:` in mkdocs.yml).

The generated tables reach the pages as pymdownx.snippets includes, whose paths are relative to
the snippets' base path. mkdocs.yml can only give that path relative to the working folder, so
this hook pins it to the docs folder: the site builds the same from any folder.

Pages are written by hand and may hold raw HTML: their HTML comments are removed before
Markdown sees them, and the HTML Markdown makes of each page is sanitised (sitecheck.py) so
no page can run a script, whatever `complaints site build` checked before. The receipt
lookup's script is added here, by the tool, to the page that holds the lookup form.
"""
from __future__ import annotations

from typing import Any

RECEIPT_SCRIPT = "assets/receipt-check.js"


def on_config(config: Any) -> Any:
    """Point pymdownx.snippets at the absolute docs folder."""
    snippets = config.mdx_configs.get("pymdownx.snippets")
    if isinstance(snippets, dict):
        snippets["base_path"] = [config.docs_dir]
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Drop the page's HTML comments: notes for editors are not for the public."""
    from complaints.sitecheck import strip_comments

    return strip_comments(markdown)


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    """Sanitise the page's HTML; add the receipt lookup's script where its form is."""
    from complaints.sitecheck import sanitise_page

    clean = sanitise_page(html)
    if "data-receipt-check" in clean:
        depth = str(getattr(page, "url", "") or "").count("/")
        clean += f'\n<script src="{"../" * depth}{RECEIPT_SCRIPT}"></script>\n'
    return clean
