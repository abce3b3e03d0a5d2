"""A figure of the position in braille characters, for the live screen: the drawer's picture, drawn small.

Each character is a cell of 2x4 dots (U+2800..U+28FF), and a terminal cell is about twice as tall as wide, so
a dot is about square and the picture keeps its shape. The picture is drawn with coach/figure's Pillow path,
scaled to the dots, and shaded by ordered dithering: the near limbs and the target solid, the far limbs and
the props lighter, the floor's fill blank. Pure (no I/O): a user's own `image:` picture is not drawn here.
"""

from __future__ import annotations

import functools

from coach.figure import build_scene, posed
from coach.figure.draw import HEIGHT, WIDTH, to_image
from coach.routine.model import Figure

BLANK = 0x2800
# The dot of each (x, y) in a cell: its bit in the character's code (braille dots 1-8).
_DOTS = ((0, 0, 0x01), (0, 1, 0x02), (0, 2, 0x04), (1, 0, 0x08), (1, 1, 0x10), (1, 2, 0x20), (0, 3, 0x40), (1, 3, 0x80))
_BAYER = ((0, 8, 2, 10), (12, 4, 14, 6), (3, 11, 1, 9), (15, 7, 13, 5))  # 4x4 ordered dithering thresholds
# Darkness (0 white .. 1 black) stretched so that the near limbs (about 0.7) are solid and the floor's fill blank.
_INK_FROM, _INK_SPAN = 0.1, 0.5


def figure_size(width: int, height: int) -> tuple[int, int]:
    """Columns and rows a figure takes on a width x height terminal: a third of the width, as tall as keeps its
    shape (a character is 2 dots wide and 4 tall), and at most the height less four rows."""
    columns = min(width // 3, (height - 4) * 2 * WIDTH // HEIGHT)
    return columns, columns * HEIGHT // (2 * WIDTH)


def braille_rows(figure: Figure, mirrored: bool, columns: int, rows: int) -> tuple[str, ...] | None:
    """The figure in `rows` lines of `columns` braille characters each; None for a user's picture or no room."""
    if figure.image is not None or columns <= 0 or rows <= 0:
        return None
    return _drawn(figure.pose, figure.angles, mirrored, columns, rows)


@functools.lru_cache(maxsize=64)
def _drawn(pose: str | None, angles: tuple, mirrored: bool, columns: int, rows: int) -> tuple[str, ...]:
    """Cached per (figure, mirrored, size): a frame is drawn 20 times a second, a figure once."""
    from PIL import Image

    scene = build_scene(posed(pose, angles, mirrored), WIDTH, HEIGHT)
    drawn = to_image(scene, supersample=2).convert("L")
    # The picture's margins cost dots a terminal cannot spare: cut to what is drawn, then fit it, centred.
    box = drawn.point(lambda value: 255 if value < 245 else 0).getbbox() or (0, 0, drawn.width, drawn.height)
    drawn = drawn.crop(box)
    dots = (columns * 2, rows * 4)
    scale = min(dots[0] / drawn.width, dots[1] / drawn.height)
    fitted = drawn.resize((max(1, round(drawn.width * scale)), max(1, round(drawn.height * scale))), Image.Resampling.BOX)
    picture = Image.new("L", dots, 255)
    picture.paste(fitted, ((dots[0] - fitted.width) // 2, dots[1] - fitted.height))  # on the floor: the bottom row
    pixels = picture.load()
    lines = []
    for row in range(rows):
        line = []
        for column in range(columns):
            code = BLANK
            for dx, dy, bit in _DOTS:
                x, y = column * 2 + dx, row * 4 + dy
                ink = (1 - pixels[x, y] / 255 - _INK_FROM) / _INK_SPAN
                if ink * 16 > _BAYER[y % 4][x % 4] + 0.5:
                    code |= bit
            line.append(chr(code))
        lines.append("".join(line))
    return tuple(lines)
