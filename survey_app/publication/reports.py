"""PDF reports of published results: one per unit (its scorecard) and one per level (the ranking).

Drawn with fpdf2 in DejaVu Sans, shipped in ``data/fonts`` because it covers every Vietnamese letter; only the
glyphs used are embedded. The numbers are the ones the pages show (``services.scoring``), in the language's
notation; the PDF carries no self-assessment free text, like the public scorecard.
"""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from typing import Any

from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from survey_app.core.i18n import fixed as format_fixed
from survey_app.core.i18n import label

FONT = "DejaVu"
BLUE = (11, 79, 156)
GREY = (154, 167, 184)


class Report(FPDF):
    """A4 portrait with the report's title in the header and the page number in the footer: every PDF report of
    the service (these, and a run's audit in ``audit_reports``) is drawn on it."""

    def __init__(self, title: str, footer: str, created: datetime | None):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        fonts = resources.files("survey_app.publication") / "data" / "fonts"
        self.add_font(FONT, "", str(fonts / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(fonts / "DejaVuSans-Bold.ttf"))
        self.report_title, self.report_footer = title, footer
        self.set_title(title)
        self.set_creator("DTI")
        if created is not None:
            # the same run gives the same file
            self.set_creation_date(created)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(15, 15, 15)
        self.add_page()

    def header(self):
        self.set_font(FONT, "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self.report_title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)
        self.set_text_color(0, 0, 0)

    def footer(self):
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(90, 90, 90)
        page = _("Page %(page)s", page=self.page_no())
        self.cell(0, 5, f"{self.report_footer} · {page}", align="C")

    def heading(self, text: str, size: int = 12):
        self.ln(2)
        self.set_font(FONT, "B", size)
        self.multi_cell(0, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, "", 9)

    def paragraph(self, text: str):
        self.set_font(FONT, "", 9)
        self.multi_cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def grid(self, headings: list[str], rows: list[list[str]], widths: tuple[float, ...], numeric: set[int]):
        """A table whose header repeats on every page."""
        self.set_font(FONT, "", 8)
        align = tuple("RIGHT" if column in numeric else "LEFT" for column in range(len(headings)))
        with self.table(
            col_widths=widths, text_align=align, line_height=4.5, repeat_headings=1, headings_style=_headings_style()
        ) as table:
            table.row(headings)
            for row in rows:
                table.row(row)

    def bars(self, items: list[tuple[str, float, float | None]], top: float):
        """Horizontal bars: a label, the unit's value and (grey, thinner) the level's median."""
        self.set_font(FONT, "", 7)
        label_width, bar_width = 70, 85
        for name, value, median in items:
            if self.will_page_break(7):
                self.add_page()
            y = self.get_y()
            self.set_xy(self.l_margin, y)
            self.cell(label_width - 2, 4, name[:60], align="R")
            self.set_fill_color(*BLUE)
            width = max(0.0, bar_width * value / top) if top else 0.0
            self.rect(self.l_margin + label_width, y + 0.5, width, 3, style="F")
            self.set_xy(self.l_margin + label_width + width + 1, y)
            self.cell(20, 4, format_fixed(value))
            if median is not None:
                self.set_fill_color(*GREY)
                self.rect(self.l_margin + label_width, y + 3.8, max(0.0, bar_width * median / top), 1.5, style="F")
            self.set_y(y + 6)
        self.set_fill_color(255, 255, 255)
        self.ln(1)


def _headings_style() -> FontFace:
    return FontFace(emphasis="BOLD", fill_color=(225, 231, 240))


def finish(pdf: FPDF) -> bytes:
    """The report's bytes, as a download sends them."""
    return bytes(pdf.output())


def unit_report(
    *,
    round_name: str,
    unit_name: str,
    card: dict[str, Any],
    names: dict[str, str],
    published: datetime | None,
    footer: str,
) -> bytes:
    """A unit's scorecard as PDF: its index and rank with their intervals, last year's value, its pillars and
    main indices against the level's median, its strongest and weakest, and every criterion's points."""
    pdf = Report(f"{round_name} · {unit_name}", footer, published)
    pdf.heading(unit_name, 16)
    pdf.paragraph(
        _(
            "Index %(value)s, rank %(rank)s of %(units)s.",
            value=format_fixed(card["index"]),
            rank=card["rank"],
            units=card["units"],
        )
    )
    interval = card.get("interval")
    missing = card.get("missing")
    if missing:
        named = "; ".join(f"{label(group['channel'])} ({', '.join(group['criteria'])})" for group in missing)
        pdf.paragraph(
            _(
                "This unit has no data on these criteria, each scored 0: %(missing)s. Its index and rank "
                "count them as 0, not as measured.",
                missing=named,
            )
        )
    if interval and interval["noisy"]:
        pdf.paragraph(
            _(
                "How sure: the index lies between %(low)s and %(high)s and the rank between %(best)s and "
                "%(worst)s in 95%% of %(replicates)s rankings simulated from the survey's sampling error and "
                "the expert panels' spread.",
                low=format_fixed(interval["index_low"]),
                high=format_fixed(interval["index_high"]),
                best=interval["rank_low"],
                worst=interval["rank_high"],
                replicates=interval["replicates"],
            )
        )
    elif interval and not missing:
        # a rank is "as computed" only when nothing was missing either
        pdf.paragraph(
            _("No survey estimate or expert panel in this index carries sampling noise: its rank is as computed.")
        )
    previous = card.get("previous")
    if previous:
        pdf.paragraph(
            _(
                "In %(year)s: %(value)s (change %(change)s).",
                year=previous["year"],
                value=format_fixed(previous["index"]),
                change=format_fixed(card["index"] - previous["index"], signed=True),
            )
        )
    nodes = [node for node in card["nodes"] if node.get("value") is not None]
    main = [node for node in nodes if node["kind"] == "main_index"]
    if main:
        pdf.heading(_("Main indices against the median of the level"))
        pdf.paragraph(_("Value of each main index, this unit (blue) and the median of its level (grey)"))
        top = max([1.0] + [node["value"] for node in main] + [node.get("median") or 0 for node in main])
        pdf.bars([(names.get(node["code"], node["code"]), node["value"], node.get("median")) for node in main], top)
    upper = [node for node in nodes if node["kind"] in ("group", "pillar", "main_index")]
    pdf.heading(_("Scores by pillar and main index"))
    pdf.grid(
        [_("Code"), _("Name"), _("Value"), _("Rank"), _("Median of the level")],
        [
            [
                node["code"],
                names.get(node["code"], node["code"]),
                format_fixed(node["value"]),
                str(node["rank"]),
                format_fixed(node.get("median")),
            ]
            for node in upper
        ],
        (18, 92, 22, 16, 32),
        {2, 3, 4},
    )
    for title, gaps in (
        (_("Strongest against the median of the level"), card.get("strongest", [])),
        (_("Weakest against the median of the level"), card.get("weakest", [])),
    ):
        if gaps:
            pdf.heading(title, 10)
            for gap in gaps:
                pdf.paragraph(
                    f"• {names.get(gap['code'], gap['code'])}: {format_fixed(gap['value'])} "
                    f"({format_fixed(gap['difference'], signed=True)})"
                )
    leaves = [node for node in card["nodes"] if node["kind"] == "criterion" and node.get("scored")]
    if leaves:
        pdf.heading(_("Criteria"))
        rows = []
        for node in leaves:
            if node.get("excluded"):
                state = _("excluded")
            elif node.get("missing"):
                state = _("missing: scored 0")
            else:
                state = label(node.get("rule") or node.get("source") or "—")
            points = format_fixed(node.get("points")) if node.get("points") is not None else "—"
            rows.append([node["code"], names.get(node["code"], node["code"]), points, f"{node['maximum']:g}", state])
        pdf.grid([_("Code"), _("Criterion"), _("Points"), _("Maximum"), _("From")], rows, (18, 88, 22, 18, 34), {2, 3})
    if card.get("excluded"):
        pdf.paragraph(_("Excluded from the ranking for every unit: %(codes)s.", codes=", ".join(card["excluded"])))
    return finish(pdf)


def level_report(
    *,
    round_name: str,
    rows: list[dict[str, Any]],
    columns: list[tuple[str, str]],
    published: datetime | None,
    footer: str,
) -> bytes:
    """A level's ranking as PDF: rank with its simulated range, index, last year's index and the pillar (or
    group) values, then the ranking as bars."""
    pdf = Report(round_name, footer, published)
    pdf.heading(round_name, 16)
    pdf.paragraph(
        _(
            "Index values in [0, 1] with four decimals; units with equal values share a rank. Rank range: "
            "where the rank falls in %(share)s of rankings simulated from the survey's sampling error and "
            "the expert panels' spread.",
            share="95%",
        )
    )
    shown = columns[:4]
    headings = [_("Rank"), _("Rank range"), _("Unit"), _("Index"), _("Last year")] + [code for code, _name in shown]
    table = [
        [
            str(row["rank"]),
            f"{row['rank_low']}–{row['rank_high']}",
            row["name"],
            format_fixed(row["index"]),
            format_fixed(row.get("previous")) if row.get("previous") is not None else "—",
        ]
        + [format_fixed(row[code]) for code, _name in shown]
        for row in rows
    ]
    widths = (12, 18, 50, 18, 18) + (16,) * len(shown)
    pdf.grid(headings, table, widths, {0, 1, 3, 4} | set(range(5, 5 + len(shown))))
    if shown:
        pdf.paragraph("; ".join(f"{code}: {name}" for code, name in shown))
    pdf.add_page()
    pdf.heading(_("Ranking chart"))
    top = max([row["index"] for row in rows] + [1e-9])
    pdf.bars([(f"{row['rank']}. {row['name']}", row["index"], None) for row in rows], top)
    return finish(pdf)
