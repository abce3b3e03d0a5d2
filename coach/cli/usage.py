"""How the command line presents itself: plain help with words for every value and its default, one-line usage errors.

typer's own help draws boxes that eat `[default: ...]` and names types like `<bool>`; its usage errors come
boxed while coach's are one `coach: error:` line. These classes keep typer's parsing and replace the rest.
"""

from __future__ import annotations

import sys
from enum import Enum
from typing import Any, Sequence

import typer
from typer import _click as click  # the click typer vendors (pyproject pins typer's version for it)
from typer.core import TyperCommand, TyperGroup

from coach.cli.guard import error_line, show_coach_warnings


class CoachCommand(TyperCommand):
    """A command whose help names each value in words and shows its default; its usage line reads `ROUTINE`, not `{ROUTINE}`."""

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        """`[OPTIONS]` then each argument: `NAME`, `[NAME]` when optional, `NAME...` when it takes several."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = _argument_name(param)
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: typer.Context, formatter: Any) -> None:
        """The Arguments and Options sections, each value named in words and its default given."""
        write_parameters(self.get_params(ctx), formatter)


class CoachGroup(TyperGroup):
    """The `coach` group: one-line usage errors for every command, and `--debug` accepted after the command too."""

    def format_options(self, ctx: typer.Context, formatter: Any) -> None:
        """The group's options, then its commands."""
        write_parameters(self.get_params(ctx), formatter)
        self.format_commands(ctx, formatter)

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        """Parse with `--debug` moved in front of the command, wherever it was given."""
        return super().parse_args(ctx, debug_first(args))

    def main(self, args: Sequence[str] | None = None, *main_args: Any, standalone_mode: bool = True, **extra: Any) -> Any:
        """Run the command line; a usage mistake becomes one `coach: error:` line and exit 2."""
        if not standalone_mode:
            return super().main(args, *main_args, standalone_mode=False, **extra)
        show_coach_warnings()
        try:
            outcome = super().main(args, *main_args, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as error:
            error.show()  # `coach` alone: the help itself is the answer
            sys.exit(error.exit_code)
        except click.ClickException as error:
            sys.stderr.write(error_line(usage_message(error)) + "\n")
            sys.exit(error.exit_code)
        except typer.Abort:
            sys.stderr.write(error_line("aborted") + "\n")
            sys.exit(1)
        # Without standalone mode typer returns the exit code of a typer.Exit, or the command's own result (None).
        sys.exit(outcome if isinstance(outcome, int) else 0)


def debug_first(args: Sequence[str]) -> list[str]:
    """The arguments with every `--debug` before `--` moved to the front, where the group's option is parsed."""
    args = list(args)
    end = args.index("--") if "--" in args else len(args)
    if "--debug" not in args[:end]:
        return args
    return ["--debug", *(arg for arg in args[:end] if arg != "--debug"), *args[end:]]


def usage_message(error: Exception) -> str:
    """A click usage error as coach words it: lower case, no final stop, and where to look for help."""
    text = error.format_message() if hasattr(error, "format_message") else str(error)
    text = text.replace("Value error, ", "").strip().rstrip(".")  # typer wraps choice errors in a validator's prefix
    text = text[:1].lower() + text[1:]
    context = getattr(error, "ctx", None)
    if context is not None:
        help_names = context.help_option_names
        text += f" (see `{context.command_path} {help_names[-1] if help_names else '--help'}`)"
    return text


def write_parameters(params: Sequence[Any], formatter: Any) -> None:
    """Write the Arguments and Options sections of a help page."""
    arguments = [_argument_record(param) for param in params if param.param_type_name == "argument" and param.help]
    options = [_option_record(param) for param in params if param.param_type_name == "option" and not param.hidden]
    for title, records in (("Arguments", arguments), ("Options", options)):
        if records:
            with formatter.section(title):
                formatter.write_dl(records)


def _argument_name(param: Any) -> str:
    name = param.metavar or param.name.upper()
    return name if param.nargs == 1 or name.endswith("...") else f"{name}..."


def _argument_record(param: Any) -> tuple[str, str]:
    return _argument_name(param), param.help


def _option_record(param: Any) -> tuple[str, str]:
    names = ", ".join(sorted(param.opts, key=lambda opt: (opt.startswith("--"), opt)))
    if param.is_flag:
        if param.secondary_opts:
            names += " / " + ", ".join(param.secondary_opts)
    else:
        names += " " + (param.metavar or param.name.upper())
    notes = [note for note in (_default_note(param), _range_note(param)) if note]
    if param.required:
        notes.append("required")
    help_text = param.help or ""
    if notes:
        help_text = f"{help_text}  [{'; '.join(notes)}]" if help_text else f"[{'; '.join(notes)}]"
    return names, help_text


def _default_note(param: Any) -> str | None:
    if isinstance(param.show_default, str):
        return f"default: {param.show_default}"
    if not param.show_default or param.default is None:
        return None
    if param.is_flag:
        if not param.secondary_opts:
            return None  # a lone flag is off unless given: nothing to say
        return f"default: {param.opts[0] if param.default else param.secondary_opts[0]}"
    value = param.default.value if isinstance(param.default, Enum) else param.default
    return f"default: {value}"


def _range_note(param: Any) -> str | None:
    bounds = param.type  # a range option's bounds live on its click range type (IntRange, FloatRange)
    low, high = getattr(bounds, "min", None), getattr(bounds, "max", None)
    if low is not None and high is not None:
        return f"{low} to {high}"
    if low is not None:
        return f"at least {low}"
    if high is not None:
        return f"at most {high}"
    return None
