"""`coach history`, and the record `coach play` adds to it; `--level auto` reads it."""

from __future__ import annotations

import datetime
import sys

import typer

from coach import history
from coach.cli.app import command, print_json
from coach.clock import plan_time as clock
from coach.history import SessionRecord
from coach.routine.levels import level_name


@command("history")
def show_history(
    limit: int = typer.Option(10, "--limit", "-n", min=1, help="How many recent sessions to show."),
    *,
    as_json,  # coach.cli.app.SHARED_OPTIONS
) -> None:
    """Show recent sessions, and how this week compares with each routine's advised frequency."""
    records = history.read()
    recent = records[-limit:]
    now = datetime.datetime.now(datetime.timezone.utc)
    weeks = []
    for key in dict.fromkeys(record.routine for record in reversed(records)):
        latest = next(record for record in reversed(records) if record.routine == key)
        if latest.frequency is not None:
            weeks.append((latest, history.this_week(records, key, now)))
    if as_json:
        print_json(
            {
                "history": str(history.history_path()),
                "sessions": [_record_json(record) for record in reversed(recent)],
                "this_week": [
                    {"routine": r.routine, "title": r.title, "sessions": n, "advised": list(r.frequency or ())}
                    for r, n in weeks
                ],
            }
        )
        return
    if not records:
        sys.stdout.write(f"No sessions yet (a `coach play` adds one to {history.history_path()}).\n")
        return
    for record in reversed(recent):
        when = record.started.astimezone().strftime("%Y-%m-%d %H:%M")
        level = "" if record.level is None else f" ({level_name(record.level)})"
        how = "done" if record.completed else f"stopped at {clock(record.done_ms, tenths=False)}"
        if record.start_ms:
            how = f"from {clock(record.start_ms, tenths=False)}, {how}"
        sys.stdout.write(
            f"{when}  {record.title}{level}  {how}, {record.exercises_done}/{record.exercises} exercises\n"
        )
    for record, sessions in weeks:
        low, high = record.frequency or (0, 0)
        advised = f"{low}" if low == high else f"{low}-{high}"
        verdict = "on track" if low <= sessions <= high else ("more than advised" if sessions > high else "below")
        sys.stdout.write(f"this week: {record.title}: {sessions} of {advised} advised ({verdict})\n")


def _record_json(record: SessionRecord) -> dict:
    found = dict(record.__dict__)
    found["frequency"] = list(record.frequency) if record.frequency else None
    return found
