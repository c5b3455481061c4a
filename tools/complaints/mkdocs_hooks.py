"""MkDocs hooks for the published site (declared under `hooks:` in mkdocs.yml).

The generated tables reach the pages as pymdownx.snippets includes, whose paths are relative to
the snippets' base path. mkdocs.yml can only give that path relative to the working folder, so
this hook pins it to the docs folder: the site builds the same from any folder.
"""
from __future__ import annotations

from typing import Any


def on_config(config: Any) -> Any:
    """Point pymdownx.snippets at the absolute docs folder."""
    snippets = config.mdx_configs.get("pymdownx.snippets")
    if isinstance(snippets, dict):
        snippets["base_path"] = [config.docs_dir]
    return config
