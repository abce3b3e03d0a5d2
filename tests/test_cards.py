"""Chapter cards: drawn once and cached by content, in every CHAP frame of the MP3, and served with the chapters."""

from __future__ import annotations

import io
import json
import re

import pytest
from mutagen.id3 import ID3
from PIL import Image
from typer.testing import CliRunner

from coach import session
from coach.cli.app import app
from coach.output import cards
from coach.routine.loader import parse_routine
from coach.timeline.compiler import compile_routine
from coach.timeline.cues import Speak
from coach.timeline.scheduler import schedule

from serving import Served, get, shared_dirs


def _timeline(routine):
    script = compile_routine(routine)
    return schedule(script, {item.text: 2.0 for item in script if isinstance(item, Speak)}, routine.title)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cards")
    target = folder / "post-run.mp3"
    result = CliRunner().invoke(app, ["export", "post-run", "-o", str(target), "--cache-dir", str(folder / "cache"),
                                      "--engine", "espeak", "--no-transcript"])
    assert result.exit_code == 0, result.stderr
    return target, folder / "cache"


def test_every_chapter_of_the_mp3_carries_its_card_as_a_jpeg(exported):
    target, _cache = exported
    chapters = ID3(target).getall("CHAP")
    titles = [exercise.name for exercise in session.load("post-run").exercises]
    assert [chapter.sub_frames["TIT2"].text[0] for chapter in chapters] == titles
    pictures = []
    for chapter in chapters:
        [apic] = [frame for key, frame in chapter.sub_frames.items() if key.startswith("APIC")]
        assert apic.mime == "image/jpeg"
        image = Image.open(io.BytesIO(apic.data))
        image.load()
        assert image.format == "JPEG" and image.size == (cards.CARD_SIZE, cards.CARD_SIZE)
        pictures.append(apic.data)
    assert len(set(pictures)) == len(pictures)  # each exercise its own card
    assert sum(map(len, pictures)) <= 0.05 * target.stat().st_size  # the cards add at most 5 % to the file


def test_cards_are_cached_by_content_and_read_back_without_drawing(exported, monkeypatch):
    _target, cache = exported
    routine = session.load("post-run")
    stored = sorted(cache.glob("card-*.jpg"))
    assert len(stored) == len(routine.exercises)
    monkeypatch.setattr(cards, "_drawn_card", lambda *args: pytest.fail("a cached card was drawn again"))
    again = cards.chapter_cards(routine, _timeline(routine), cache)
    assert sorted(card for card in again) == sorted(path.read_bytes() for path in stored)


def test_a_users_own_picture_is_on_the_card_and_mirrored_for_the_right_side(tmp_path):
    picture = Image.new("RGB", (200, 100), "white")
    picture.paste((255, 0, 0), (0, 0, 100, 100))  # red on the left half
    (tmp_path / "mine.png").write_bytes(_png(picture))
    text = "title: Mine\nexercises:\n  - name: My stretch\n    sides: [left, right]\n    image: mine.png\n    steps:\n      - hold: 10s\n"
    (tmp_path / "r.yaml").write_text(text)
    routine = parse_routine(text, str(tmp_path / "r.yaml"))
    figure = routine.exercises[0].figure
    left = Image.open(io.BytesIO(cards.figure_png(routine, figure, mirrored=False)))
    right = Image.open(io.BytesIO(cards.figure_png(routine, figure, mirrored=True)))
    assert left.getpixel((10, 50)) == (255, 0, 0) and right.getpixel((190, 50)) == (255, 0, 0)
    [card] = cards.chapter_cards(routine, _timeline(routine), tmp_path / "cache")
    drawn = Image.open(io.BytesIO(card)).convert("RGB")
    r, g, b = drawn.getpixel((cards.CARD_SIZE // 4, 120))
    assert r > 200 and g < 60 and b < 60  # the picture's red half, on the left for the first side (left)


def test_a_users_own_svg_is_shown_as_it_is_and_embedded_flipped_for_the_other_side(tmp_path):
    from coach.site.episodes import figure_files

    own = '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"><rect width="10" height="10" fill="red"/></svg>'
    (tmp_path / "mine.svg").write_text(own)
    text = "title: Mine\nexercises:\n  - name: My stretch\n    sides: [left, right]\n    image: mine.svg\n    steps:\n      - hold: 10s\n"
    (tmp_path / "r.yaml").write_text(text)
    routine = parse_routine(text, str(tmp_path / "r.yaml"))
    figure = routine.exercises[0].figure
    assert cards.figure_svg(routine, figure, mirrored=False) == own
    flipped = cards.figure_svg(routine, figure, mirrored=True)
    assert "scale(-1 1)" in flipped and "data:image/svg+xml;base64," in flipped
    files = figure_files(routine, _timeline(routine))  # the player's pictures: one per side
    assert sorted(data.decode() for _name, data in files.values()) == sorted([own, flipped])


def _png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    cache, library = shared_dirs(tmp_path_factory)
    server = Served("--library", str(library), "--cache-dir", str(cache))
    server.wait_for(r"pre-run\.yaml: (exported|up to date)")
    server.wait_for(r"post-run\.yaml: (exported|up to date)")
    yield server
    assert server.stop() == 0


def test_the_served_chapters_name_a_card_for_each_chapter_that_resolves(served):
    feed = get(served.feed)[2].decode()
    urls = sorted(set(re.findall(r"\"(http://[^\"]+/chapters\.json)\"", feed)))  # under both namespaces
    assert len(urls) == 2
    for url in urls:
        status, headers, body = get(url)
        assert status == 200 and headers["content-type"].startswith("application/json+chapters")
        chapters = json.loads(body)["chapters"]
        images = [chapter["img"] for chapter in chapters]
        assert all(image.startswith("http://127.0.0.1:") for image in images), images
        assert len(set(images)) == len(images)
        for image in images:
            status, headers, data = get(image)
            assert status == 200 and headers["content-type"] == "image/jpeg"
            assert Image.open(io.BytesIO(data)).size == (cards.CARD_SIZE, cards.CARD_SIZE)
        folder = images[0].rsplit("/", 1)[0]
        assert get(folder + "/card-99.jpg")[0] == 404  # no such chapter
        assert get(folder + "/card-1.jpg")[0] == 404
