"""The documentation stands alone and agrees with the code: every key, template name, phrase and command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from coach.routine import loader
from coach.cli.app import app
from coach.timeline.compiler import KNOWN_SIDES
from coach.output.encode import FORMATS
from coach.routine.phrases import DEFAULT_PHRASES, TEXT_FIELDS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
FORMAT_PAGE = ROOT / "docs" / "routine-format.md"


def format_page() -> str:
    assert FORMAT_PAGE.exists(), "docs/routine-format.md holds the routine format"
    return FORMAT_PAGE.read_text()


def test_the_readme_links_the_format_page_and_nothing_outside_the_repository():
    assert "(docs/routine-format.md)" in README
    for name, text in (("README.md", README), ("docs/routine-format.md", format_page())):
        assert "../shared" not in text and "DESIGN.md" not in text, name
        for target in re.findall(r"\]\(([^)#]+)\)", text):
            if not target.startswith(("http://", "https://")):
                assert (ROOT / target).exists() or (FORMAT_PAGE.parent / target).exists(), (name, target)


@pytest.mark.parametrize(
    "key",
    sorted({*loader.ROUTINE_KEYS, *loader.VOICE_KEYS, *loader.PACE_KEYS, *loader.EXERCISE_KEYS, *loader.STEP_KEYS}),
)
def test_the_format_page_names_every_key(key):
    assert f"`{key}" in format_page()


@pytest.mark.parametrize("name", sorted(TEXT_FIELDS))
def test_the_format_page_names_every_template_name(name):
    assert f"`{{{name}}}`" in format_page()


@pytest.mark.parametrize("phrase", sorted(DEFAULT_PHRASES))
def test_the_format_page_lists_every_phrase(phrase):
    assert f"`{phrase}`" in format_page()


def test_the_format_page_lists_the_known_side_labels_and_the_plan_markers():
    page = format_page()
    listed = re.search(r"outside the usual set \(([^)]*)\)", page.replace("\n", " "))
    assert listed and {word.strip() for word in re.split("[,;]", listed.group(1))} >= KNOWN_SIDES
    assert "`(over)`" in page and "Round 1 of 2." in page


def test_the_readme_command_table_has_every_command():
    for command in app.registered_commands:
        assert f"| `coach {command.name}" in README, command.name


def test_the_readme_states_each_formats_true_peak_ceiling():
    for form in FORMATS.values():
        row = next(line for line in README.splitlines() if line.lower().startswith(f"| {form.name} "))
        assert f"| {form.ceiling_dbtp:g} dBTP |" in row, row


@pytest.mark.parametrize("name", ["README.md", "docs/routine-format.md"])
def test_the_first_routine_example_of_each_page_loads_and_compiles_without_warnings(name):
    from coach.timeline.compiler import compile_routine, routine_warnings
    from coach.routine.loader import parse_routine

    text = (ROOT / name).read_text()
    example = next(block for block in re.findall(r"```yaml\n(.*?)```", text, re.S) if "exercises:" in block)
    routine = parse_routine(example, name)
    assert compile_routine(routine) and routine_warnings(routine) == []
