"""One module per command: each orchestrates the layers below and returns a report (a
dataclass); none prints, exits or reads the clock (the CLI does)."""
