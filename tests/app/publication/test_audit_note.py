"""The public ranking of a published run carries a short robustness note from the run's stored audit, beside the
rank ranges it always shows; a run without an audit shows none."""

from flask_babel import force_locale

from survey_app.core.extensions import db
from survey_app.publication import operations as publication
from survey_app.scoring import index_audit
from tests.app.scoring.test_index_audit import BASE_SAMPLES, NAMES, UNITS, make_round


def _note(html: str) -> str:
    start = html.find('<section class="robustness"')
    return html[start : html.index("</section>", start)] if start >= 0 else ""


def test_a_published_runs_ranking_notes_how_robust_it_is_once_the_run_is_audited(app, client):
    run = make_round()
    publication.publish(run, actor=None)
    db.session.commit()
    page = client.get("/results/audit-2023").get_data(as_text=True)
    # the rank ranges of the survey's and the experts' noise are always there; the note needs an audit
    assert "Khoảng hạng" in page and _note(page) == ""

    stored = index_audit.run_index_audit(run.id, lambda *step: None, base_samples=BASE_SAMPLES)
    db.session.commit()
    # by hand from the stored intervals: a tenth of 6 units rounded up is 1 place; a unit could move by more
    # when its interval reaches further than that from its rank, up or down
    units = stored.result["uncertainty"]["units"]
    moving = [row for row in units if max(row["rank"] - row["rank_low"], row["rank_high"] - row["rank"]) > 1]
    assert 0 < len(moving) < len(UNITS)
    names = dict(zip(UNITS, NAMES))

    # the cached page of the published run is made again once the run has its audit
    note = _note(client.get("/results/audit-2023").get_data(as_text=True))
    assert note
    for row in moving:
        assert names[row["unit"]] in note and f"{row['rank_low']}–{row['rank_high']}" in note
    steady = [row for row in units if row not in moving]
    assert all(names[row["unit"]] not in note for row in steady)

    english = _note(client.get("/results/audit-2023?lang=en").get_data(as_text=True))
    assert f"{len(moving)} of 6 units' ranks could move by more than 1 place" in english
    assert f"the ranking is robust for the other {len(UNITS) - len(moving)}" in english
    shift = [row for row in stored.result["uncertainty"]["sobol"] if row["output"] == "mean_shift"]
    driver = max(shift, key=lambda row: row["total"])["factor"]
    with force_locale("en"):  # the label as the English page words it
        driver_words = str(index_audit.AUDIT_LABELS[driver])
    assert f"What moves the ranks most: {driver_words}" in english.replace("&#39;", "'")
