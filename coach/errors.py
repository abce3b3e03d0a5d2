"""The one family of errors the library raises; only the CLI turns them into messages and exit codes."""

from __future__ import annotations

from dataclasses import dataclass


class CoachError(Exception):
    """Base of every error coach raises on purpose; `exit_code` is what the CLI exits with."""

    exit_code = 1


class CoachWarning(UserWarning):
    """Something the user should know that does not stop the command; the CLI prints it as one `coach: warning:` line."""


class UsageError(CoachError):
    """The user asked for something that cannot mean anything (bad option value, unknown routine name)."""

    exit_code = 2


@dataclass(frozen=True)
class Diagnostic:
    """One problem or warning in a routine file, located at a 1-based line and column."""

    path: str
    line: int
    col: int
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.severity}: {self.message}"


class RoutineError(CoachError):
    """A routine file is invalid; carries every problem found, in file order."""

    exit_code = 2

    def __init__(self, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]):
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class SpeechError(CoachError):
    """The speech engine cannot render a cue (no engine, unknown voice, empty text, silent output)."""


class UnspeakableText(SpeechError):
    """The engine said nothing for a text (punctuation only, invisible characters): bad input, not a broken engine."""

    exit_code = 2

    def __init__(self, text: str, message: str):
        self.text = text
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        # Raised in speech worker processes: rebuilt in the parent with its text.
        return (type(self), (self.text, str(self)))


class CacheError(CoachError):
    """The speech cache cannot be read or written."""


class AudioDeviceError(CoachError):
    """No usable audio output device."""


class EncoderError(CoachError):
    """The audio encoder is missing or failed."""


class MusicError(CoachError):
    """A music file or folder cannot be played (missing, unreadable, undecodable, no audio in it)."""


class HistoryError(CoachError):
    """The session history cannot be read or written."""


class OutputError(CoachError):
    """The output file cannot be written (permissions, full disk)."""


class ServerError(CoachError):
    """The server cannot listen on the address and port asked for."""
