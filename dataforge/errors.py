"""The one exception users see, and the exit codes every command shares."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1  # the data has problems at or above the failure threshold
    USAGE = 2  # bad arguments, unreadable paths, I/O errors: nothing was judged


class DataforgeError(Exception):
    """A condition the program cannot continue past; the CLI prints message and hint, no traceback."""

    def __init__(self, message: str, hint: str = "", exit_code: ExitCode = ExitCode.USAGE):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code
