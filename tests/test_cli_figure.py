"""`coach figure`: one exercise's positions or a contact sheet of all, as SVG or PNG, written whole; bad input refused."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

from PIL import Image
from typer.testing import CliRunner

from coach.cli.app import app
from coach.figure import POSES
from coach.figure.sheet import CELL_H, CELL_W, LABEL_H

runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args))


def test_a_contact_sheet_of_every_position_of_a_built_in(tmp_path):
    result = run("figure", "post-run", "-o", str(tmp_path / "all.png"))
    assert result.exit_code == 0, result.stderr
    assert "14 positions of 7 exercises" in result.stdout
    image = Image.open(tmp_path / "all.png")
    assert image.format == "PNG" and image.size == (4 * CELL_W, 4 * (CELL_H + LABEL_H))  # 14 cells: 4 columns, 4 rows
    assert list(tmp_path.iterdir()) == [tmp_path / "all.png"]  # staged and renamed: nothing left beside it


def test_one_exercise_as_svg_mirrored_for_its_other_side(tmp_path):
    left, right = tmp_path / "left.svg", tmp_path / "right.svg"
    assert run("figure", "post-run", "half fish", "-o", str(left)).exit_code == 0
    assert run("figure", "post-run", "5", "--side", "left", "-o", str(right)).exit_code == 0
    first, other = ET.parse(left).getroot(), ET.parse(right).getroot()
    assert first.get("width") == other.get("width") == "480"
    assert left.read_text() != right.read_text()  # half fish starts on the right: --side left is the mirror
    assert run("figure", "post-run", "5", "--side", "right", "-o", str(right)).exit_code == 0
    assert left.read_text() == right.read_text()


def test_the_pose_library_listed_and_drawn(tmp_path):
    listed = run("figure", "--list")
    assert listed.exit_code == 0 and [line.split()[0] for line in listed.stdout.splitlines()] == list(POSES)
    assert run("figure", "--poses", "-o", str(tmp_path / "poses.svg")).exit_code == 0
    svg = (tmp_path / "poses.svg").read_text()
    assert svg.count("<text") == len(POSES)


def test_bad_requests_are_one_line_and_write_nothing(tmp_path):
    for args, message in [
        (("post-run", "-o", str(tmp_path / "x.gif")), "name it FILE.svg or FILE.png"),
        (("post-run",), "give -o FILE.svg or -o FILE.png"),
        (("post-run", "nothing-like-it", "-o", str(tmp_path / "x.png")), "matches no exercise"),
        (("post-run", "couch", "--side", "up", "-o", str(tmp_path / "x.png")), "has the sides left, right"),
        (("post-run", "-o", str(tmp_path / "no" / "x.png")), "no folder"),
    ]:
        result = run("figure", *args)
        assert result.exit_code in (1, 2) and message in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_the_format_page_shows_the_library_as_made_by_the_command(tmp_path):
    from pathlib import Path

    committed = Path(__file__).resolve().parent.parent / "docs" / "figures" / "poses.png"
    assert run("figure", "--poses", "-o", str(tmp_path / "poses.png")).exit_code == 0
    fresh = Image.open(io.BytesIO((tmp_path / "poses.png").read_bytes())).convert("RGB")
    stored = Image.open(committed).convert("RGB")
    assert fresh.size == stored.size and fresh.tobytes() == stored.tobytes(), \
        "refresh it: .venv/bin/coach figure --poses -o docs/figures/poses.png"
