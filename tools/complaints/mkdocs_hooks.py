"""MkDocs hooks for the published site (declared under `hooks:` in mkdocs.yml).

The generated tables reach the pages as pymdownx.snippets includes, whose paths are relative to
the snippets' base path. mkdocs.yml can only give that path relative to the working folder, so
this hook pins it to the docs folder: the site builds the same from any folder.

The built pages then get the finishing touches of `complaints.sitepages` (search in the
reader's language, keyboard-scrollable tables, the footer's date, the stylesheet and script),
and the "page not found" page is written in each language.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from complaints import sitepages
from complaints.site import GENERATED, LANGUAGES


def on_config(config: Any) -> Any:
    """Point pymdownx.snippets at the absolute docs folder."""
    snippets = config.mdx_configs.get("pymdownx.snippets")
    if isinstance(snippets, dict):
        snippets["base_path"] = [config.docs_dir]
    return config


def _meta(config: Any) -> sitepages.SiteMeta:
    return sitepages.SiteMeta.read(Path(config.docs_dir) / LANGUAGES[0] / GENERATED / sitepages.META_FILE)


def on_post_page(output: str, page: Any, config: Any) -> str:
    lang = sitepages.page_language(page.url, LANGUAGES)
    return sitepages.finish_page(output, page.url, lang, _meta(config), LANGUAGES)


def on_post_build(config: Any) -> None:
    site_dir = Path(config.site_dir)
    sitepages.write_assets(site_dir)
    base_path = urlsplit(config.site_url or "").path or "/"
    sitepages.not_found_pages(site_dir, LANGUAGES, base_path)
