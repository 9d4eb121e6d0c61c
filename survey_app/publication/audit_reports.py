"""The PDF report of a scoring run's statistical audit (``scoring.index_audit``): what to look at in plain words,
then the data checks, the structure, the alternative methods and the global uncertainty with its rank-shift plot,
the same numbers as the audit page, drawn on the service's report (``reports.Report``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from flask_babel import gettext as _

from survey_app.core.i18n import fixed, number
from survey_app.publication.reports import BLUE, FONT, GREY, Report, finish

#: the rank-shift plot's side, in mm
PLOT = 110


def _percent(share) -> str:
    return "—" if share is None else f"{fixed(100 * share, 0)}%"


def index_audit_report(
    *,
    title: str,
    document: dict[str, Any],
    findings,
    advice: list[str],
    unit_names: dict[str, str],
    node_names: dict[str, str],
    describe: Callable[[Any], str],
    created: datetime | None,
    footer: str,
) -> bytes:
    """A run's audit as PDF.

    :param document: the stored audit (``IndexAudit.result``)
    :param findings: ``scoring.index_audit.findings`` of it; ``advice``: its sentences
    :param describe: the audit's codes (inputs, methods, correlation flags) in words
    """
    pdf = Report(title, footer, created)
    uncertainty = document["uncertainty"]
    pdf.heading(title, 15)
    pdf.paragraph(
        _(
            "The audit asks what the handbook on composite indicators of the JRC and the OECD asks of every "
            "ranking: are the data fit to be added up, do the criteria of each main index measure one thing, and "
            "would the ranking hold under other reasonable methods and with the survey's and the experts' "
            "uncertainty?"
        )
    )
    pdf.heading(_("What to look at"))
    for sentence in advice:
        pdf.paragraph(f"• {sentence}")

    pdf.heading(_("1. Data checks"))
    pdf.paragraph(
        _(
            "Skewness measures how lopsided a criterion's values are and kurtosis how much of their spread comes "
            "from a few extreme values; the JRC flags a criterion when both are high (|skewness| above 2 and "
            "kurtosis above 3.5). Values are shares of the criterion's points; units without data are left out."
        )
    )
    pdf.grid(
        [
            _("Criterion"),
            _("Main index"),
            _("Units with data"),
            _("Mean"),
            _("Skewness"),
            _("Kurtosis"),
            _("JRC flag"),
            _("Outliers"),
        ],
        [
            [
                row["node"],
                row["main_index"],
                f"{row['with_data']} ({_percent(row['share'])})",
                fixed(row["mean"], 2),
                fixed(row["skewness"], 2),
                fixed(row["kurtosis"], 2),
                _("skewed") if row["flagged"] else "",
                f"{row['outliers_iqr']} / {row['outliers_z']}",
            ]
            for row in document["data"]["criteria"]
        ],
        (22, 22, 26, 18, 22, 22, 24, 24),
        {2, 3, 4, 5, 7},
    )

    pdf.heading(_("2. Structure"))
    pdf.paragraph(
        _(
            "The criteria of a main index should be positively correlated, but not so much that one repeats the "
            "other (above 0.92 the JRC calls a pair redundant). Cronbach's alpha sums this up per main index (0.7 "
            "and above: the criteria move together); a second principal component with an eigenvalue above 1 "
            "means the main index measures a second thing."
        )
    )
    flagged = findings.pairs
    if flagged:
        pdf.grid(
            [_("Within"), _("Pair"), _("Pearson"), _("Spearman"), _("Reading")],
            [
                [
                    _("the index") if row["parent"] == "index" else row["parent"],
                    f"{row['first']} – {row['second']}",
                    fixed(row["pearson"], 2),
                    fixed(row["spearman"], 2),
                    describe(
                        "dominant" if row["level"] == "main_indices" and row["flag"] == "redundant" else row["flag"]
                    ),
                ]
                for row in flagged
            ],
            (28, 46, 24, 24, 58),
            {2, 3},
        )
    if findings.near_zero:
        pdf.paragraph(
            _(
                "Pairs of criteria hardly correlated (|r| below 0.3), per main index: %(counts)s. Such criteria "
                "measure different things; many of them in one main index make it a list rather than a measure.",
                counts="; ".join(
                    f"{row['main_index']} " + _("%(pairs)s of %(total)s", pairs=row["pairs"], total=row["of"])
                    for row in findings.near_zero
                ),
            )
        )
    pca = document["structure"]["pca"]
    rows = []
    for row in document["structure"]["alpha"]:
        components = [c for c in pca if c["main_index"] == row["main_index"]]
        rows.append(
            [
                f"{row['main_index']} · {node_names.get(row['main_index'], '')}"[:60],
                str(row["criteria"]),
                fixed(row["alpha"], 2),
                fixed(components[0]["eigenvalue"], 2) if components else "—",
                _percent(components[0]["share"]) if components else "—",
                fixed(components[1]["eigenvalue"], 2) if len(components) > 1 else "—",
            ]
        )
    pdf.grid(
        [
            _("Main index"),
            _("Criteria"),
            _("Cronbach's alpha"),
            _("First eigenvalue"),
            _("Its share of the variance"),
            _("Second eigenvalue"),
        ],
        rows,
        (60, 18, 26, 26, 26, 24),
        {1, 2, 3, 4, 5},
    )

    pdf.heading(_("3. Alternative methods"))
    pdf.paragraph(
        _(
            "The ranking recomputed with one choice of method changed at a time; the official method is never "
            "changed. Each line says how far the ranks would move against the official ranking."
        )
    )
    pdf.grid(
        [
            _("Scenario"),
            _("Data"),
            _("Normalisation"),
            _("Aggregation"),
            _("Weights"),
            _("Average shift"),
            _("Largest shift"),
            _("Units moved"),
        ],
        [
            [
                describe(row["scenario"]),
                describe(row["data"]),
                describe(row["normalisation"]),
                describe(row["aggregation"]),
                describe(row["weighting"]),
                fixed(row["mean_shift"], 2),
                str(row["max_shift"]),
                str(row["units_moved"]),
            ]
            for row in document["scenarios"]["table"]
        ],
        (26, 22, 24, 24, 24, 20, 20, 20),
        {5, 6, 7},
    )

    pdf.heading(_("4. Global uncertainty and sensitivity"))
    pdf.paragraph(
        _(
            "The ranking redrawn %(draws)s times with every uncertain input drawn together: the survey's sampling "
            "error, the expert panels' spread, the normalisation, the aggregation, the weights within the main "
            "indices, the main index and pillar weights each times a factor between %(low)s and %(high)s and, "
            "where the framework has them, the channel shares between %(least)s and %(most)s. Each unit's median "
            "rank and the interval that holds %(level)s%% of its ranks say how far its published rank can be "
            "trusted.",
            draws=number(uncertainty["draws"]),
            low=number(1 - uncertainty["perturbation"]),
            high=number(1 + uncertainty["perturbation"]),
            least=_percent(uncertainty["share_bounds"][0]),
            most=_percent(uncertainty["share_bounds"][1]),
            level=round(100 * uncertainty["level"]),
        )
    )
    pdf.heading(_("Rank shifts"), 10)
    pdf.paragraph(
        _(
            "Each unit at its official rank (across) and its median rank (down), the bar its interval of 90%. On the "
            "dashed diagonal the median rank is the official rank; a long bar is a rank that could easily have "
            "been another."
        )
    )
    _rank_shift_plot(pdf, uncertainty["units"], findings.units)
    pdf.grid(
        [_("Unit"), _("Index"), _("Official rank"), _("Median rank"), _("interval (90%)"), _("Could move by")],
        [
            [
                unit_names.get(row["unit"], row["unit"]),
                fixed(row["index"]),
                str(row["rank"]),
                number(row["median_rank"]),
                f"{row['rank_low']}–{row['rank_high']}",
                str(max(row["rank"] - row["rank_low"], row["rank_high"] - row["rank"])),
            ]
            for row in uncertainty["units"]
        ],
        (60, 22, 24, 24, 26, 24),
        {1, 2, 3, 4, 5},
    )
    pdf.heading(_("What drives the uncertainty"), 10)
    pdf.paragraph(
        _(
            "Sobol' indices of each input on the average rank shift. The first-order index is the share of its "
            "variance the input explains alone; the total effect adds what it explains together with other "
            "inputs. An input with a total effect near 0 hardly matters; the input with the largest total effect "
            "is the one to narrow, or the choice to settle, first."
        )
    )
    pdf.grid(
        [_("Input"), _("First order"), _("Total effect")],
        [
            [
                describe(row["factor"]),
                f"{fixed(row['first_order'], 2)} ± {fixed(row['first_order_conf'], 2)}",
                f"{fixed(row['total'], 2)} ± {fixed(row['total_conf'], 2)}",
            ]
            for row in findings.drivers
        ],
        (100, 40, 40),
        {1, 2},
    )
    return finish(pdf)


def _rank_shift_plot(pdf: Report, rows: list[dict], count: int) -> None:
    """Official rank across, median rank down, each unit's 90% interval as a bar (as the page's SVG)."""
    if pdf.will_page_break(PLOT + 14):
        pdf.add_page()
    left, top = pdf.l_margin + 12, pdf.get_y() + 2
    step = PLOT / max(count, 1)
    pdf.set_draw_color(200, 208, 219)
    pdf.set_line_width(0.2)
    pdf.rect(left, top, PLOT, PLOT)
    pdf.set_dash_pattern(dash=1.5, gap=1)
    pdf.line(left, top, left + PLOT, top + PLOT)
    pdf.set_dash_pattern()
    pdf.set_line_width(0.8)
    pdf.set_draw_color(*GREY)
    pdf.set_fill_color(*BLUE)
    for row in rows:
        x = left + step * (row["rank"] - 0.5)
        pdf.line(x, top + step * (row["rank_low"] - 0.5), x, top + step * (row["rank_high"] - 0.5))
        pdf.circle(x, top + step * (row["median_rank"] - 0.5), 0.9, style="F")
    pdf.set_line_width(0.2)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_fill_color(255, 255, 255)
    pdf.set_font(FONT, "", 7)
    pdf.set_xy(left - 10, top - 1)
    pdf.cell(9, 4, "1", align="R")
    pdf.set_xy(left - 10, top + PLOT - 3)
    pdf.cell(9, 4, str(count), align="R")
    pdf.set_xy(left, top + PLOT + 1)
    pdf.cell(PLOT / 2, 4, _("Official rank") + " →")
    pdf.cell(PLOT / 2, 4, str(count), align="R")
    pdf.set_xy(left + PLOT + 2, top)
    pdf.cell(40, 4, "↓ " + _("Median rank (interval of 90%)"))
    pdf.set_y(top + PLOT + 8)
