"""The one exception hierarchy of the library; the CLI converts it at a single boundary."""
from __future__ import annotations


class ComplaintsError(Exception):
    """Base of every error the library raises on purpose. The message is safe to print:
    it never carries the value of a field that may hold personal data."""


class UsageMistake(ComplaintsError):
    """The command was asked for something that cannot be (an unknown git revision, say):
    the CLI exits 2, as for any other usage error."""


class ConfigError(ComplaintsError):
    """The policy file, the calendar overrides or another repository setting is unusable."""


class CaseError(ComplaintsError):
    """A case file cannot be read or does not exist."""


class CalendarError(ComplaintsError):
    """A date falls in a year whose official working-day calendar is not known."""


class TransitionError(ComplaintsError):
    """A timeline event is not allowed in the case's current state."""


class GitHubError(ComplaintsError):
    """The GitHub API refused a request or could not be reached."""


class InvalidCasesError(ComplaintsError):
    """A repository-wide result would leave out case files that do not pass validation."""


class PublicationError(ComplaintsError):
    """Something that would be published failed the disclosure or personal-data checks."""
