"""One renderer per report: text, JSON, CSV, Markdown and the site. Each module's registry has
one shape, `dict[str, Callable[[Report], str]]`."""
