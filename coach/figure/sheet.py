"""A contact sheet: pictures in a grid, each with its label under it, as SVG text or PNG bytes.

Cells come already drawn (each an SVG document, or image bytes Pillow reads), so a sheet can mix the
library's figures with a routine's own pictures.
"""

from __future__ import annotations

import io
import math
import re
from xml.sax.saxutils import escape

CELL_W, CELL_H, LABEL_H = 240, 180, 26
LABEL_COLOUR = "#2b2b2b"


def _grid(count: int, columns: int | None) -> tuple[int, int]:
    cols = columns or max(1, min(4, math.ceil(math.sqrt(count))))
    return cols, max(1, math.ceil(count / cols))


def sheet_svg(cells: list[tuple[str, str]], columns: int | None = None) -> str:
    """(label, SVG document of CELL_W x CELL_H) cells in a grid, as standalone SVG text."""
    cols, rows = _grid(len(cells), columns)
    width, height = cols * CELL_W, rows * (CELL_H + LABEL_H)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
           '<rect width="100%" height="100%" fill="#ffffff"/>']
    for index, (label, svg) in enumerate(cells):
        x, y = (index % cols) * CELL_W, (index // cols) * (CELL_H + LABEL_H)
        inner = svg.strip().removeprefix('<?xml version="1.0" encoding="UTF-8"?>').strip()
        out.append(_placed(inner, x, y))
        out.append(f'<text x="{x + CELL_W / 2:.0f}" y="{y + CELL_H + 17}" text-anchor="middle" font-family="sans-serif" '
                   f'font-size="14" fill="{LABEL_COLOUR}">{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _placed(svg: str, x: int, y: int) -> str:
    """An SVG document placed in its cell: its own width and height replaced by the cell's (its viewBox scales it)."""
    head, rest = svg.split(">", 1)
    head = re.sub(r'\s(width|height|x|y)="[^"]*"', "", head)
    return head.replace("<svg", f'<svg x="{x}" y="{y}" width="{CELL_W}" height="{CELL_H}"', 1) + ">" + rest


def sheet_png(cells: list[tuple[str, bytes | None]], columns: int | None = None) -> bytes:
    """(label, image bytes) cells in a grid, as PNG bytes; a cell of None is left blank with its label."""
    from PIL import Image, ImageDraw, ImageFont

    cols, rows = _grid(len(cells), columns)
    img = Image.new("RGB", (cols * CELL_W, rows * (CELL_H + LABEL_H)), "#ffffff")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=14)
    for index, (label, data) in enumerate(cells):
        x, y = (index % cols) * CELL_W, (index // cols) * (CELL_H + LABEL_H)
        if data is not None:
            cell = Image.open(io.BytesIO(data)).convert("RGB")
            cell.thumbnail((CELL_W, CELL_H))
            img.paste(cell, (x + (CELL_W - cell.width) // 2, y + (CELL_H - cell.height) // 2))
        draw.text((x + CELL_W / 2, y + CELL_H + 13), label, fill=LABEL_COLOUR, font=font, anchor="mm")
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
