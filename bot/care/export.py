"""Files for the clinic and for responders: the history as CSV and as a PDF of as many pages as
it needs, and the emergency card as a PNG picture. Pure: rows and lines in, bytes out (fpdf2 and
Pillow, no network).

Both are drawn in DejaVu Sans (`bot.reply.fonts`), so every name is drawn as typed, accents
included; what the font cannot draw (a colour emoji) is left out rather than shown as a box. The
CSV keeps every character. Titles, column names and every other word come from
content/care.yaml through the caller; this module holds no user-facing text, and draws card
values exactly as the person typed them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.reply.fonts import drawable, font_path

CARD_WIDTH = 900
CARD_MARGIN = 36
CARD_FONT = 28
CARD_TITLE_FONT = 38
CARD_LINE = 1.4  # line height, in font sizes
CARD_RED = (180, 20, 30)
PDF_WIDTHS = (34, 116, 30)  # mm: time, what happened, by (A4 less 15 mm margins)


@dataclass(frozen=True)
class HistoryRow:
    when: str  # local time, already formatted
    what: str
    by: str


@dataclass(frozen=True)
class Section:
    """A heading and its lines, printed above the table (the plans in force, say)."""

    heading: str
    lines: tuple[str, ...]


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


def history_pdf(
    title: str,
    note: str,
    rows: Sequence[HistoryRow],
    header: Sequence[str],
    sections: Sequence[Section] = (),
    page: str = "{page}/{pages}",
) -> bytes:
    """A4 pages: the title and note, each section, then every row in a table whose heading is
    repeated on each page; `page` is the footer ("{page}" and "{pages}" filled in)."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    class _Pdf(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("DejaVu", "", 8)
            text = page.replace("{page}", str(self.page_no())).replace("{pages}", "{nb}")
            self.cell(0, 5, text, align="C")

    pdf = _Pdf(orientation="portrait", unit="mm", format="A4")
    pdf.add_font("DejaVu", "", str(font_path()))
    pdf.add_font("DejaVu", "B", str(font_path(bold=True)))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_margins(15, 15, 15)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(0, 8, drawable(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(0, 5, drawable(note), new_x="LMARGIN", new_y="NEXT")
    for section in sections:
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", 11)
        pdf.multi_cell(0, 6, drawable(section.heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)
        for line in section.lines:
            pdf.multi_cell(0, 5, drawable(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 9)
    with pdf.table(
        col_widths=PDF_WIDTHS,
        width=sum(PDF_WIDTHS),
        align="LEFT",
        headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)),
        repeat_headings=1,
        line_height=5,
        text_align="LEFT",
    ) as table:
        heading = table.row()
        for name in header:
            heading.cell(drawable(name))
        for item in rows:
            cells = table.row()
            for value in (item.when, item.what, item.by):
                cells.cell(drawable(value))
    return bytes(pdf.output())


def _wrap(text: str, width: float, fits: Callable[[str], float]) -> list[str]:
    """Words onto lines no wider than `width` pixels (a word longer than a line is cut)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if fits(trial) <= width:
            current = trial
            continue
        if current:
            lines.append(current)
        while fits(word) > width:
            cut = len(word)
            while cut > 1 and fits(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    lines.append(current)
    return lines


def card_png(lines: Sequence[str], strong: Sequence[int] = ()) -> bytes:
    """The emergency card as a picture: a red title bar (the first line), then each line,
    wrapped to the card's width; the lines numbered in `strong` in bold red."""
    from PIL import Image, ImageDraw, ImageFont

    title_font = ImageFont.truetype(str(font_path(bold=True)), CARD_TITLE_FONT)
    font = ImageFont.truetype(str(font_path()), CARD_FONT)
    bold = ImageFont.truetype(str(font_path(bold=True)), CARD_FONT)
    inner = CARD_WIDTH - 2 * CARD_MARGIN
    body: list[tuple[str, bool]] = []
    for number, line in enumerate(lines[1:], start=1):
        face = bold if number in strong else font
        for part in _wrap(drawable(line), inner, face.getlength) or [""]:
            body.append((part, number in strong))
    title = _wrap(drawable(lines[0]), inner, title_font.getlength)
    line_height = int(CARD_FONT * CARD_LINE)
    title_line = int(CARD_TITLE_FONT * CARD_LINE)
    title_height = title_line * len(title) + CARD_MARGIN
    height = title_height + CARD_MARGIN * 2 + line_height * len(body)
    image = Image.new("RGB", (CARD_WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, CARD_WIDTH, title_height), fill=CARD_RED)
    y = CARD_MARGIN // 2
    for part in title:
        draw.text((CARD_MARGIN, y), part, font=title_font, fill="white")
        y += title_line
    y = title_height + CARD_MARGIN
    for part, is_strong in body:
        face = bold if is_strong else font
        draw.text((CARD_MARGIN, y), part, font=face, fill=CARD_RED if is_strong else "black")
        y += line_height
    draw.rectangle((0, 0, CARD_WIDTH - 1, height - 1), outline=CARD_RED, width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
