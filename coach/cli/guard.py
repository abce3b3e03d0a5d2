"""How a command's outcome reaches the user without typer: library errors as one `coach: error:` line each, the
library's warnings as `coach: warning:` lines, and the exit code (130 for Ctrl-C, 128+N for signal N).

Both the typer commands and the quick `coach play` (coach/cli/quick.py) run through here, so they fail alike.
"""

from __future__ import annotations

import signal
import sys
import warnings
from typing import Any, Callable

from coach import interrupts
from coach.errors import CoachError, CoachWarning, RoutineError
from coach.interrupts import Terminated

ERROR_PREFIX = "coach: error: "
WARNING_PREFIX = "coach: warning: "


def error_line(message: str) -> str:
    """The one line every error is shown as: `coach: error: message`."""
    return f"{ERROR_PREFIX}{message}"


def show_coach_warnings() -> None:
    """Show the library's warnings as one `coach: warning:` line each; other warnings keep Python's own form."""
    python_shows = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], *where: Any, **details: Any) -> None:
        if issubclass(category, CoachWarning):
            sys.stderr.write(f"{WARNING_PREFIX}{message}\n")
        else:
            python_shows(message, category, *where, **details)

    warnings.showwarning = show


def exit_code_of(run: Callable[[], int | None], debug: bool = False) -> int:
    """Run a command: its exit code, its errors written as lines (raised as they are with `debug`).

    SIGTERM and SIGHUP (a closed terminal) stop it the way Ctrl-C does: clean-up runs, nothing is left.
    """
    previous = _stop_on_termination()
    try:
        return run() or 0
    except RoutineError as error:
        if debug:
            raise
        for diagnostic in error.diagnostics:
            sys.stderr.write(f"{diagnostic}\n")
        return error.exit_code
    except CoachError as error:
        if debug:
            raise
        sys.stderr.write(error_line(str(error)) + "\n")
        return error.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("coach: interrupted\n")
        return 130
    except Terminated as stop:
        sys.stderr.write(f"coach: stopped by {stop}\n")
        return 128 + stop.signal_number
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _raise_terminated(number: int, _frame: object) -> None:
    interrupts.deliver(Terminated(number))


def _stop_on_termination() -> dict[int, Any]:
    previous: dict[int, Any] = {}
    for number in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if number is None:
            continue
        try:
            previous[number] = signal.signal(number, _raise_terminated)
        except ValueError:  # not the main thread: the host program owns the signals
            break
    return previous
