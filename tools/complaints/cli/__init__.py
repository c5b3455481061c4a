"""The command line: the only layer that prints, exits, reads the environment or the clock."""
from complaints.cli.app import cli, main

__all__ = ["cli", "main"]
