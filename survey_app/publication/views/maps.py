"""A published round's units on a map (``/results/<round>/map``): a tile grid of the provinces (tile_map.py)
coloured by the index or by a pillar or main index the visitor picks with a plain form, beside a table that says
the same in words. Drawn on the server as SVG, so it needs no script and obeys the site's CSP."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from markupsafe import Markup

from sampling import plain_text as _plain
from survey_app.core.i18n import current_language
from survey_app.core.security import public
from survey_app.publication import tile_map
from survey_app.publication.blueprint import results as blueprint
from survey_app.publication.operations import plain_number
from survey_app.publication.views.results import limited, published, published_cached, ranking_rows
from survey_app.rounds.models import EvaluationRound
from survey_app.scoring.models import ScoringRun

#: what the map shows unless the visitor picks a pillar or main index
INDEX = "index"
#: the side of a tile's cell in the SVG's units, and the gap between two tiles
CELL, GAP = 40, 4
#: the height, in CSS pixels, both grids are drawn at on a wide screen (the 34 units' grid drawn larger than the
#: 63 provinces'); a narrower screen scales the map down to its width (the SVG's viewBox keeps the proportions)
DRAWN_HEIGHT = 800


@blueprint.get("/<round_code>/map", endpoint="map")
@public
@limited
def unit_map(round_code: str):
    evaluation_round, run = published(round_code)
    columns = published_cached(run, ("columns",), lambda: [code for code, _ in ranking_rows(evaluation_round, run)[1]])
    node = request.args.get("node") or INDEX
    notice = None
    if node != INDEX and node not in columns:
        # a code from an old link or typed by hand: say so and show the index rather than fail
        notice = _("This round has no pillar or main index “%(code)s”; the map shows the index.", code=node[:40])
        node = INDEX
    content = published_cached(
        run, ("map", node), lambda: render_template("results/_map.html", **_map_view(evaluation_round, run, node))
    )
    return render_template(
        "results/map.html", evaluation_round=evaluation_round, notice=notice, content=Markup(content)
    )


def _map_view(evaluation_round: EvaluationRound, run: ScoringRun, node: str) -> dict:
    """Every unit of the round's list with its value on ``node``, its class and, where the list has a grid, its
    tile; units the run did not score are shown without data."""
    rows, columns = ranking_rows(evaluation_round, run)
    by_code = {row["unit"]: row for row in rows}
    language = current_language()
    units = list(evaluation_round.unit_list.units)
    grid = tile_map.grid_for(evaluation_round.unit_list.code, [unit.code for unit in units])
    values = {unit.code: plain_number(by_code[unit.code].get(node)) if unit.code in by_code else None for unit in units}
    classes = tile_map.value_classes(values.values())
    entries = []
    for unit in units:
        tile = grid.get(unit.code) if grid else None
        entries.append(
            {
                "unit": unit.code,
                "name": unit.attributes.get("name_en") or unit.name if language == "en" else unit.name,
                "value": values[unit.code],
                "value_class": tile_map.class_of(values[unit.code], classes),
                # a unit the run did not score has no scorecard to link to
                "scored": unit.code in by_code,
                "x": tile.column * CELL if tile else None,
                "y": tile.row * CELL if tile else None,
                "label": tile.label if tile else unit.code,
            }
        )
    # best first, as the ranking reads; units without data last
    entries.sort(key=lambda entry: (entry["value"] is None, -(entry["value"] or 0), _plain(entry["name"])))
    names = dict(columns)
    width, height = tile_map.grid_size(grid) if grid else (0, 0)
    return {
        "evaluation_round": evaluation_round,
        "node": node,
        "node_name": _("Index") if node == INDEX else names[node],
        "choices": [(INDEX, _("Index")), *columns],
        "entries": entries,
        "classes": classes,
        "no_data": any(entry["value"] is None for entry in entries),
        "drawn": grid is not None,
        # the grid's extent, less the gap after the last column and row
        "width": width * CELL - GAP,
        "height": height * CELL - GAP,
        "drawn_width": round((width * CELL - GAP) * DRAWN_HEIGHT / (height * CELL - GAP)) if grid else 0,
        "tile": CELL - GAP,
        "no_data_fill": tile_map.NO_DATA_FILL,
        "no_data_text": tile_map.NO_DATA_TEXT,
    }
