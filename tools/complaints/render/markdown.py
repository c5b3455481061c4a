"""Text from data made inert for the Markdown pages every renderer writes."""
from __future__ import annotations

import html
import re

# The characters Python-Markdown lets a backslash escape (plus `|` for tables). `<`, `>` and `&`
# are left to HTML escaping, which turns them into entities that Markdown passes through.
# Escaping another character would show its backslash.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")


def md_escape(text: object) -> str:
    """Text from data, made inert for Markdown and HTML: rendered as itself, never as markup.
    Line breaks become spaces so a value cannot end a table row or start a block."""
    flat = " ".join(str(text).split())
    return html.escape(_MD_SPECIAL.sub(r"\\\1", flat), quote=False)
