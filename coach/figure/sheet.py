"""A contact sheet: many figures in a grid, each with its label under it, as SVG text or PNG bytes."""

from __future__ import annotations

import io
import math
from xml.sax.saxutils import escape

from coach.figure.draw import Pose, build_scene, side_pose, to_svg

CELL_W, CELL_H, LABEL_H = 240, 180, 26
LABEL_COLOUR = "#2b2b2b"


def _grid(count: int, columns: int | None) -> tuple[int, int]:
    cols = columns or max(1, min(4, math.ceil(math.sqrt(count))))
    return cols, max(1, math.ceil(count / cols))


def sheet_svg(items: list[tuple[str, Pose, str | None]], columns: int | None = None) -> str:
    """The (label, pose, side) items in a grid, as standalone SVG text."""
    cols, rows = _grid(len(items), columns)
    width, height = cols * CELL_W, rows * (CELL_H + LABEL_H)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
           '<rect width="100%" height="100%" fill="#ffffff"/>']
    for index, (label, pose, side) in enumerate(items):
        x, y = (index % cols) * CELL_W, (index // cols) * (CELL_H + LABEL_H)
        inner = to_svg(build_scene(side_pose(pose, side), CELL_W, CELL_H)).strip()
        out.append(inner.replace("<svg ", f'<svg x="{x}" y="{y}" ', 1))
        out.append(f'<text x="{x + CELL_W / 2:.0f}" y="{y + CELL_H + 17}" text-anchor="middle" font-family="sans-serif" '
                   f'font-size="14" fill="{LABEL_COLOUR}">{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def sheet_png(items: list[tuple[str, Pose, str | None]], columns: int | None = None) -> bytes:
    """The (label, pose, side) items in a grid, as PNG bytes (Pillow's bundled font for the labels)."""
    from PIL import Image, ImageDraw, ImageFont

    from coach.figure.draw import to_png

    cols, rows = _grid(len(items), columns)
    img = Image.new("RGB", (cols * CELL_W, rows * (CELL_H + LABEL_H)), "#ffffff")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=14)
    for index, (label, pose, side) in enumerate(items):
        x, y = (index % cols) * CELL_W, (index // cols) * (CELL_H + LABEL_H)
        cell = Image.open(io.BytesIO(to_png(build_scene(side_pose(pose, side), CELL_W, CELL_H))))
        img.paste(cell, (x, y))
        draw.text((x + CELL_W / 2, y + CELL_H + 13), label, fill=LABEL_COLOUR, font=font, anchor="mm")
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
