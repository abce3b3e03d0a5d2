"""Pictures of the positions for the output: a figure drawn (or the user's own image read), and a card per
chapter (the figure, the exercise and its sides) that the MP3's chapters and the served chapters carry.

Cards are cached by content in the cache folder (`card-<hash>.jpg`, written through coach/staging.py like
every cache file): a second export of the same routine reads them back instead of drawing them again.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
from pathlib import Path

from coach import staging
from coach.errors import Diagnostic, RoutineError
from coach.figure import Pose, build_scene, posed, pose_with, to_png, to_svg
from coach.figure.draw import to_image
from coach.routine.model import Figure, Routine, routine_figures
from coach.timeline.moment import MomentIndex
from coach.timeline.timeline import Timeline, figure_json

CARD_SIZE = 360
CARD_VERSION = 1  # part of every card's key: a change of the card's drawing makes new cards
_FIGURE_HEIGHT = 250
_INK, _SIDE_INK = "#22313f", "#c2452a"


def image_path(routine: Routine, figure: Figure) -> Path:
    """Where a figure's `image:` is: relative to the routine file."""
    return Path(routine.source).parent / str(figure.image)


def image_problems(routine: Routine) -> list[Diagnostic]:
    """What `coach check` says about a routine's `image:` paths: each one missing or unreadable, at its position."""
    found = []
    for figure in routine_figures(routine):
        if figure.image is None:
            continue
        problem = _image_problem(routine, figure)
        if problem is not None:
            found.append(problem)
    return found


def _image_problem(routine: Routine, figure: Figure) -> Diagnostic | None:
    path = image_path(routine, figure)
    where = figure.where
    if not path.is_file():
        reason = "is a folder, not a picture" if path.is_dir() else "no such file"
        return Diagnostic(where.path, where.line, where.col, f"image: {figure.image}: {reason}")
    if not os.access(path, os.R_OK):
        return Diagnostic(where.path, where.line, where.col, f"image: {figure.image}: cannot read: permission denied")
    return None


def _image_bytes(routine: Routine, figure: Figure) -> bytes:
    problem = _image_problem(routine, figure)
    if problem is None:
        try:
            return image_path(routine, figure).read_bytes()
        except OSError as error:
            where = figure.where
            problem = Diagnostic(where.path, where.line, where.col, f"image: {figure.image}: cannot read: {error.strerror}")
    raise RoutineError([problem])


def figure_pose(figure: Figure) -> Pose:
    """The drawn pose of a figure given as a pose name and/or joint angles."""
    return pose_with(figure.pose, figure.angles)


def is_svg(figure: Figure) -> bool:
    """Whether a figure is the user's own SVG picture (shown as it is; Pillow cannot draw it into a PNG)."""
    return figure.image is not None and figure.image.lower().endswith(".svg")


def figure_svg(routine: Routine, figure: Figure, mirrored: bool = False, width: int = 480, height: int = 360) -> str:
    """A figure as SVG text: the pose drawn, or the user's picture (an SVG as it is, a PNG or JPEG embedded; mirrored
    for the other side, an SVG embedded too)."""
    if figure.image is None:
        return _drawn_svg(figure.pose, figure.angles, mirrored, width, height)
    data = _image_bytes(routine, figure)
    if is_svg(figure) and not mirrored:
        return data.decode("utf-8", errors="replace")
    import base64

    kind = "svg+xml" if is_svg(figure) else "png" if data.startswith(b"\x89PNG") else "jpeg"  # an SVG mirrored: embedded
    flip = f' transform="translate({width} 0) scale(-1 1)"' if mirrored else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
            f'<image width="{width}" height="{height}"{flip} href="data:image/{kind};base64,{base64.b64encode(data).decode()}"/></svg>\n')


@functools.lru_cache(maxsize=256)
def _drawn_svg(pose: str | None, angles: tuple[tuple[str, str, float], ...], mirrored: bool, width: int, height: int) -> str:
    # `coach serve` publishes again on every save: each position is drawn once per process, not once per save.
    return to_svg(build_scene(posed(pose, angles, mirrored), width, height))


def figure_png(routine: Routine, figure: Figure, mirrored: bool = False, width: int = 480, height: int = 360) -> bytes | None:
    """A figure as PNG bytes (None for the user's own SVG, which Pillow cannot draw); a picture mirrored for the other side."""
    if figure.image is None:
        return to_png(build_scene(posed(figure.pose, figure.angles, mirrored), width, height))
    if is_svg(figure):
        return None
    image = _opened(routine, figure)
    if mirrored:
        from PIL import ImageOps

        image = ImageOps.mirror(image)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _opened(routine: Routine, figure: Figure):
    from PIL import Image, UnidentifiedImageError

    data = _image_bytes(routine, figure)
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError):
        where = figure.where
        raise RoutineError([Diagnostic(where.path, where.line, where.col,
                                       f"image: {figure.image}: not a PNG or JPEG picture that can be read")]) from None
    return image.convert("RGB")


# --- chapter cards ---------------------------------------------------------------------------------------------


def chapter_cards(routine: Routine, timeline: Timeline, cache_dir: Path | None) -> list[bytes | None]:
    """A JPEG card per chapter of the timeline (None for a chapter without a figure), from the cache when there."""
    index = MomentIndex(timeline)
    cards: list[bytes | None] = []
    for number, chapter in enumerate(timeline.chapters):
        moment = index.at(chapter.start_ms)
        shown = next((span for span in timeline.figures if span.chapter == number), None)
        figure, mirrored = (moment.figure, moment.mirrored) if moment.figure is not None else (
            (shown.figure, shown.mirrored) if shown else (None, False))
        if figure is None:
            cards.append(None)
            continue
        sides = list(dict.fromkeys(span.side for span in timeline.sides if span.chapter == number))
        cards.append(card(routine, figure, mirrored, chapter.title, sides, cache_dir))
    return cards


def card(routine: Routine, figure: Figure, mirrored: bool, title: str, sides: list[str], cache_dir: Path | None) -> bytes:
    """One chapter card: the figure above, the exercise's name and its sides below (a CARD_SIZE square JPEG)."""
    picture = _image_bytes(routine, figure) if figure.image is not None else b""
    key = hashlib.sha256(json.dumps([CARD_VERSION, CARD_SIZE, figure_json(figure), mirrored, title, sides,
                                     hashlib.sha256(picture).hexdigest()]).encode()).hexdigest()
    path = None if cache_dir is None else Path(cache_dir) / f"card-{key[:16]}.jpg"
    if path is not None:
        try:
            cached = path.read_bytes()
            if cached.startswith(b"\xff\xd8") and cached.endswith(b"\xff\xd9"):
                return cached
        except OSError:
            pass
    data = _drawn_card(routine, figure, mirrored, title, sides)
    if path is not None:
        _store(path, data)
    return data


def _store(path: Path, data: bytes) -> None:
    """Keep a card in the cache (staged, then renamed); a cache that cannot be written costs only the caching."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = staging.locked_temporary(path.parent, path.stem)
    except OSError:
        return
    try:
        os.write(descriptor, data)
    except OSError:
        os.close(descriptor)
        staging.remove_if_stale(Path(temporary))
        return
    try:
        staging.publish(descriptor, temporary, path)
    except OSError:
        pass


def _drawn_card(routine: Routine, figure: Figure, mirrored: bool, title: str, sides: list[str]) -> bytes:
    from PIL import Image, ImageDraw

    size = CARD_SIZE
    img = Image.new("RGB", (size, size), "#ffffff")
    if figure.image is None:
        art = to_image(build_scene(posed(figure.pose, figure.angles, mirrored), size, _FIGURE_HEIGHT), supersample=2)
    elif not is_svg(figure):
        art = _opened(routine, figure)
        if mirrored:
            from PIL import ImageOps

            art = ImageOps.mirror(art)
        art.thumbnail((size, _FIGURE_HEIGHT))
    else:
        art = None  # an SVG picture: the card shows the name only
    if art is not None:
        img.paste(art, ((size - art.width) // 2, (_FIGURE_HEIGHT - art.height) // 2))
    draw = ImageDraw.Draw(img)
    font = _font(26)
    lines = _wrapped(draw, title, font, size - 28)
    if len(lines) > 1:
        font = _font(22)
        lines = _wrapped(draw, title, font, size - 28)
    y = _FIGURE_HEIGHT + (8 if len(lines) > 1 else 16)
    for line in lines:
        draw.text((size / 2, y), line, fill=_INK, font=font, anchor="mt")
        y += font.size + 4
    if sides:
        label = " · ".join(side.capitalize() for side in sides)
        draw.text((size / 2, size - 14), label, fill=_SIDE_INK, font=_font(18), anchor="mb")
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=82)
    return buf.getvalue()


@functools.lru_cache(maxsize=None)
def _font(size: int):
    """Pillow's bundled font at a size (read once per process: loading it is most of a card's text cost)."""
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def _wrapped(draw, text: str, font, width: int) -> list[str]:
    """The words of `text` in lines no wider than `width` (a last line that does not fit ends in an ellipsis)."""
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(lines[-1] + " " + word, font=font) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > 2:
        lines = [lines[0], " ".join(lines[1:])]
        while draw.textlength(lines[1] + "…", font=font) > width and len(lines[1]) > 1:
            lines[1] = lines[1][:-1]
        lines[1] = lines[1].rstrip() + "…"
    return lines


def with_chapter_cards(tags, routine: Routine, timeline: Timeline, cache_dir: Path | None):
    """The track's tags (coach.output.export.TrackTags) with a card for each chapter that shows a figure."""
    import dataclasses

    cards = chapter_cards(routine, timeline, cache_dir)
    return dataclasses.replace(tags, chapter_cards=tuple(cards)) if any(cards) else tags
