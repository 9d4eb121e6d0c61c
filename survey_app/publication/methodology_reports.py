"""PDF reports of a published round beside its ranking: its methodology (``publication.methodology``) and, for the
national level, the country's value with its series. Drawn on ``reports.Report``, in the reader's language."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from survey_app.core.i18n import current_language, label, moment
from survey_app.core.i18n import fixed as format_fixed
from survey_app.core.i18n import number as format_number
from survey_app.publication.reports import Report, finish


def methodology_report(*, round_name: str, method: dict[str, Any], footer: str) -> bytes:
    """The round's methodology as PDF (``publication.methodology``): the round, run and framework, what awaits
    the source document, the tree with its points, the channel shares, the rules applied, the normalisation and
    the data sources with their dates; the same sentences as the page, in the reader's language."""
    language = current_language()
    pdf = Report(f"{round_name} · {_('Methodology')}", footer, method["run"]["published_at"])
    facts, framework, run = method["round"], method["framework"], method["run"]
    pdf.heading(f"{_('Methodology')}: {facts['name'][language]}", 16)
    pdf.heading(_("The round, the run and the framework"))
    pdf.paragraph(
        f"{_('Round')}: {facts['name'][language]} · {label(facts['level'])} · {facts['year']}; "
        + _(
            "opened %(when)s, published %(published)s",
            when=moment(facts["created_at"]),
            published=moment(facts["published_at"]),
        )
    )
    pdf.paragraph(f"{_('Units')}: {facts['unit_list'][language]}: {facts['units']}")
    source = "; " + _("source: %(document)s", document=framework["source"]) if framework["source"] else ""
    pdf.paragraph(
        f"{_('Framework')}: {framework['name'][language]} ({framework['code']} {framework['year']}, "
        f"v{framework['version']}){source}"
    )
    pdf.paragraph(
        f"{_('Scoring run')}: "
        + _(
            "run %(number)s, computed %(when)s, published %(published)s",
            number=run["number"],
            when=moment(run["created_at"]),
            published=moment(run["published_at"]),
        )
    )
    total = format_number(method["total"])
    if framework["published_as"] == "value":
        value = _(
            "the points a unit earns over %(total)s, published in [0, 1] with four decimals; units with equal "
            "values share a rank",
            total=total,
        )
    else:
        value = _("the points a unit earns, of %(total)s", total=total)
    pdf.paragraph(f"{_('Index value')}: {value}")
    if method["notes"]:
        pdf.heading(_("What the framework file says awaits the source document"))
        for entry in method["notes"]:
            named = f"{entry['code']} {entry['name'][language]}" if entry["code"] else entry["name"][language]
            pdf.paragraph(f"• {named}: {entry['note'][language]}")
    _methodology_tree(pdf, method, language)
    _methodology_rules(pdf, method, language)
    _methodology_sources(pdf, method, language)
    return finish(pdf)


def _methodology_tree(pdf: Report, method: dict[str, Any], language: str) -> None:
    pdf.heading(_("The framework and its points"))
    pdf.paragraph(
        _(
            "Every node with its points as the framework gives them and as this run counted them once the excluded "
            "criteria were out; a unit without data on a criterion scores 0 on it."
        )
    )
    rows = []
    for node in method["tree"]:
        if not node["scored"]:
            counted = _("not scored")
        elif node["excluded"]:
            counted = _("excluded")
        else:
            counted = format_number(node["counted"])
        rows.append(
            [
                node["code"],
                "   " * node["depth"] + node["name"][language],
                label(node["kind"]),
                format_number(node["points"]),
                counted,
                str(node["missing"]) if node["missing"] is not None else "",
            ]
        )
    pdf.grid(
        [_("Code"), _("Name"), _("Kind"), _("Points"), _("Counted in this run"), _("Units without data (scored 0)")],
        rows,
        (18, 74, 22, 18, 24, 24),
        {3, 4, 5},
    )
    pdf.heading(_("Channel shares"))
    shares = method["shares"]
    if shares is None:
        pdf.paragraph(
            _(
                "The framework does not split the score by channel: each criterion's points come from the channels "
                "that measure it."
            )
        )
        return
    pdf.paragraph(
        _(
            "Reported data, appraisal and survey together %(assessment)s, cyberspace %(cyberspace)s, expert "
            "interviews %(expert)s [1726 II.2.a].",
            assessment=format_number(shares["assessment"] * 100) + "%",
            cyberspace=format_number(shares["cyberspace"] * 100) + "%",
            expert=format_number(shares["expert"] * 100) + "%",
        )
        + " "
        + (
            _("The shares apply to each pillar.")
            if shares["level"] == "pillar"
            else _("The shares apply to the whole index.")
        )
    )
    pdf.grid(
        [_("Name"), _("Points"), _("Reported data, appraisal and survey"), label("cyberspace"), label("expert")],
        [
            [
                f"{row['code']} {row['name'][language]}" if row["code"] else row["name"][language],
                format_number(row["points"]),
                format_number(row["channels"]["assessment"]),
                format_number(row["channels"]["cyberspace"]),
                format_number(row["channels"]["expert"]),
            ]
            for row in shares["applied"]
        ],
        (70, 20, 40, 25, 25),
        {1, 2, 3, 4},
    )


def _methodology_rules(pdf: Report, method: dict[str, Any], language: str) -> None:
    pdf.heading(_("Rules applied"))
    pdf.heading(_("Missing data"), 10)
    defaulted = [node for node in method["tree"] if node["missing"]]
    text = _("A unit without data on a criterion scores 0 on it, and its index counts that 0 [1726 II.2.b.vi].")
    if defaulted:
        text += " " + ngettext(
            "In this run %(num)s criterion was scored 0 for at least one unit (see the tree above).",
            "In this run %(num)s criteria were scored 0 for at least one unit (see the tree above).",
            len(defaulted),
        )
    else:
        text += " " + _("In this run every unit had data on every criterion counted.")
    pdf.paragraph(text)
    pdf.heading(_("Exclusions"), 10)
    exclusions = method["exclusions"]
    text = (
        _(
            "A criterion with data for fewer than half of the units is proposed for exclusion [1726 II.2.b.vi]; the "
            "scoring officer excludes it or keeps it."
        )
        + " "
        + _("What excluding a criterion did in this run: %(reading)s.", reading=label(exclusions["reading"]))
    )
    if exclusions["reading"] != exclusions["framework_reading"]:
        text += " " + _("(The framework's own reading: %(reading)s.)", reading=label(exclusions["framework_reading"]))
    pdf.paragraph(text)
    if exclusions["excluded"]:
        pdf.grid(
            [_("Code"), _("Criterion"), _("Points"), _("Units with data"), _("Reason")],
            [
                [
                    row["code"],
                    row["name"][language],
                    format_number(row["points"]),
                    _("%(count)s of %(units)s", count=row["units_with_data"], units=row["units"]),
                    _("data for fewer than half of the units")
                    if row["proposed"]
                    else _("the scoring officer's decision"),
                ]
                for row in exclusions["excluded"]
            ],
            (18, 72, 18, 26, 46),
            {2, 3},
        )
        if exclusions["reason"]:
            pdf.paragraph(_("The scoring officer's note: %(note)s", note=exclusions["reason"]))
    else:
        pdf.paragraph(_("No criterion was excluded."))
    if exclusions["kept"]:
        pdf.paragraph(
            _(
                "Proposed for exclusion but kept in the ranking (units without data score 0 on them): %(criteria)s.",
                criteria=", ".join(row["code"] for row in exclusions["kept"]),
            )
        )
    pdf.heading(_("Rules for particular units"), 10)
    if method["rules"]:
        for rule in method["rules"]:
            pdf.paragraph(f"• {label(rule['rule'])}: {', '.join(rule['units'])} → {', '.join(rule['criteria'])}")
    else:
        pdf.paragraph(_("None: every unit was scored on its own data."))
    if method["pillar_views"]:
        pdf.paragraph(_("Pillars read across groups [742 Art. 5.2]:"))
        for view in method["pillar_views"]:
            pdf.paragraph(
                f"• {view['code']} {view['name'][language]} ({format_number(view['points'])}): "
                + " + ".join(view["includes"])
            )
    pdf.heading(_("Normalisation"))
    chosen = method["normalisation"]["run"]
    if chosen == "min-max":
        how = _(
            "each criterion's values were rescaled across the units from the lowest (0) to the highest (1) before "
            "they were added up."
        )
    elif chosen == "z-score":
        how = _(
            "each criterion's values were standardised across the units (their mean subtracted, divided by their "
            "standard deviation) before they were added up."
        )
    else:
        how = _("criterion points were added up as measured.")
    text = f"{label(chosen)}: {how}"
    if chosen != method["normalisation"]["framework"]:
        text += " " + _("(The framework's own choice: %(method)s.)", method=label(method["normalisation"]["framework"]))
    pdf.paragraph(text)


def _methodology_sources(pdf: Report, method: dict[str, Any], language: str) -> None:
    pdf.heading(_("Data sources and dates"))
    sources = method["sources"]
    assessed = sources["self_assessment"]
    text = ngettext(
        "%(num)s value reported by the units (%(appraised)s appraised)",
        "%(num)s values reported by the units (%(appraised)s appraised)",
        assessed["rows"],
        appraised=assessed["appraised"],
    )
    if assessed["first"]:
        text += "; " + _(
            "reported %(first)s – %(last)s", first=moment(assessed["first"]), last=moment(assessed["last"])
        )
    if assessed["appraised_at"]:
        text += "; " + _("last appraisal %(when)s", when=moment(assessed["appraised_at"]))
    pdf.paragraph(f"{label('self_assessment')}: {text}")
    fieldworks = []
    for fieldwork in sources["survey"]["fieldworks"]:
        text = (fieldwork["name"][language] if fieldwork["name"] else fieldwork["fieldwork"]) + ": "
        text += _("opened %(when)s", when=moment(fieldwork["opened_at"]))
        if fieldwork["closes_at"]:
            text += ", " + _("closing %(when)s", when=moment(fieldwork["closes_at"]))
        text += "; " + (
            _("weighted %(when)s", when=moment(fieldwork["weighted_at"]))
            if fieldwork["weighted"]
            else ngettext("%(num)s response, unweighted", "%(num)s responses, unweighted", fieldwork["responses"] or 0)
        )
        fieldworks.append(text)
    pdf.paragraph(f"{label('survey')}: {'; '.join(fieldworks) or _('no survey in this round')}")
    expert = sources["expert"]
    text = (
        ngettext(
            "%(num)s form submitted %(first)s – %(last)s",
            "%(num)s forms submitted %(first)s – %(last)s",
            expert["forms"],
            first=moment(expert["first"]),
            last=moment(expert["last"]),
        )
        if expert["forms"]
        else _("no expert form in this round")
    )
    pdf.paragraph(f"{label('expert')}: {text}")
    cyberspace = sources["cyberspace"]
    text = (
        ngettext(
            "%(num)s value, loaded %(when)s",
            "%(num)s values, loaded %(when)s",
            cyberspace["rows"],
            when=moment(cyberspace["loaded_at"]),
        )
        if cyberspace["rows"]
        else _("no cyberspace value in this round")
    )
    pdf.paragraph(f"{label('cyberspace')}: {text}")


def national_report(
    *, round_name: str, series: dict[str, Any], year: int, nodes: list[dict[str, Any]], published, footer: str
) -> bytes:
    """The national index as PDF: the country's value of ``year``, its pillars or main indices, and its series
    across the published years (``publication.methodology.national_series``) as a table."""
    language = current_language()
    current = next(row for row in series["rows"] if row["year"] == year)
    pdf = Report(round_name, footer, published)
    pdf.heading(round_name, 16)
    pdf.paragraph(_("The national index of %(year)s: %(value)s.", year=year, value=format_fixed(current["index"])))
    if nodes:
        pdf.heading(_("Pillars and main indices, %(year)s", year=year))
        pdf.grid(
            [_("Code"), _("Name"), _("Points"), _("Value")],
            [
                [
                    node["code"],
                    node["name"][language],
                    format_number(node["points"]),
                    format_fixed(current["values"][node["code"]]),
                ]
                for node in nodes
            ],
            (20, 100, 30, 30),
            {2, 3},
        )
    pdf.heading(_("The national index in each published year"))
    columns = series["columns"]
    pdf.grid(
        [_("Year"), _("Index")] + [column["code"] for column in columns],
        [
            [str(row["year"]), format_fixed(row["index"])]
            + [format_fixed(row["values"].get(column["code"])) for column in columns]
            for row in series["rows"]
        ],
        (20, 25) + (135 / max(len(columns), 1),) * len(columns),
        set(range(1, 2 + len(columns))),
    )
    if columns:
        pdf.paragraph("; ".join(f"{column['code']}: {column['name'][language]}" for column in columns))
    return finish(pdf)
