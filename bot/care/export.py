"""Files for the clinic and for responders: the history as CSV and as a one-page PDF, and the
emergency card as a PNG picture. Pure: rows and lines in, bytes out (fpdf2 and Pillow, no
network, built-in fonts only).

Titles and column names come from content/care.yaml through the caller; this module holds no
user-facing text, and draws card values exactly as the person typed them.
"""

from __future__ import annotations

import csv
import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

PDF_MAX_ROWS = 40  # rows that fit on one A4 page at this size; the CSV has them all
CARD_WIDTH = 900
CARD_MARGIN = 36
CARD_FONT = 30
CARD_TITLE_FONT = 40
CARD_WRAP = 48  # characters per line on the picture


@dataclass(frozen=True)
class HistoryRow:
    when: str  # local time, already formatted
    what: str
    by: str


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run these as formulas


def cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: one starting like a formula gets a leading '
    (OWASP's advice against CSV injection)."""
    return f"'{value}" if value.startswith(FORMULA_START) else value


def history_csv(rows: Sequence[HistoryRow], header: Sequence[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([cell(h) for h in header])
    for row in rows:
        writer.writerow((cell(row.when), cell(row.what), cell(row.by)))
    return out.getvalue().encode("utf-8-sig")  # a BOM so spreadsheet programs read UTF-8


def _latin(text: str) -> str:
    """The PDF's built-in fonts only know Latin-1: anything else becomes '?'."""
    return text.encode("latin-1", "replace").decode("latin-1")


def history_pdf(
    title: str, note: str, rows: Sequence[HistoryRow], header: Sequence[str], more: str | None
) -> bytes:
    """One A4 page: title, note, a table of the newest rows, and `more` if some were left off."""
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(15, 15, 15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, _latin(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(0, 5, _latin(note), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    widths = (38, 112, 30)
    pdf.set_font("Helvetica", "B", 9)
    for width, name in zip(widths, header, strict=True):
        pdf.cell(width, 6, _latin(name), border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for row in rows[:PDF_MAX_ROWS]:
        for width, value in zip(widths, (row.when, row.what, row.by), strict=True):
            text = _latin(value)
            while text and pdf.get_string_width(text) > width - 2:
                text = text[:-1]
            pdf.cell(width, 5.5, text, border=1)
        pdf.ln()
    if more:
        pdf.ln(2)
        pdf.cell(0, 5, _latin(more))
    return bytes(pdf.output())


def card_png(lines: Sequence[str]) -> bytes:
    """The emergency card as a picture: a red title bar, then each line, wrapped."""
    from PIL import Image, ImageDraw, ImageFont

    title_font = ImageFont.load_default(size=CARD_TITLE_FONT)
    font = ImageFont.load_default(size=CARD_FONT)
    body: list[str] = []
    for line in lines[1:]:
        body.extend(textwrap.wrap(line, CARD_WRAP) or [""])
    line_height = int(CARD_FONT * 1.45)
    title_height = int(CARD_TITLE_FONT * 2)
    height = title_height + CARD_MARGIN * 2 + line_height * len(body)
    image = Image.new("RGB", (CARD_WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, CARD_WIDTH, title_height), fill=(180, 20, 30))
    draw.text(
        (CARD_MARGIN, title_height // 2), lines[0], font=title_font, fill="white", anchor="lm"
    )
    y = title_height + CARD_MARGIN
    for line in body:
        draw.text((CARD_MARGIN, y), line, font=font, fill="black")
        y += line_height
    draw.rectangle((0, 0, CARD_WIDTH - 1, height - 1), outline=(180, 20, 30), width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
