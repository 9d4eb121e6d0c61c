"""Benchmark: the statistical audit of a scoring year for 63 provinces (analysis.audit): data checks, structure,
alternative methods as scenarios, and the global uncertainty and Sobol' sensitivity analysis of the ranks.

    .venv/bin/python benchmarks/audit.py [--responses 1000000] [--forms 1260] [--criteria 300] [--base-samples 1024]

The year's inputs are made as benchmarks/index.py makes them (its 294-criterion framework, questionnaire and
provinces, imported from it): 1,000,000 citizens' responses, 1,260 expert forms, every province's self-assessment
and cyberspace values, merged into criterion points. Making them is shown but not counted. Prints the seconds and
the process's peak memory after each step; the targets are the audit under 60 seconds and the whole process under
2 GB, on the 2-core machine.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from analysis import (  # noqa: E402
    check_cyberspace,
    check_self_assessment,
    compute,
    criterion_points,
    external_values,
    survey_estimates,
    template_rows,
)
from analysis.audit import data_checks, global_uncertainty, scenarios, structure  # noqa: E402
from benchmarks.index import (  # noqa: E402
    MAIN_INDICES,
    PROVINCES,
    build_framework,
    citizens_questionnaire,
    expert_aggregates,
    synthetic_expert_forms,
    synthetic_responses,
)
from questionnaires import Channel, ScoringMethod  # noqa: E402

SECONDS = 60
MEGABYTES = 2048


def peak_megabytes() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Steps:
    def __init__(self):
        self.computing = 0.0

    def run(self, name: str, work, *, counted: bool = True):
        """Time one step; making the year's inputs is shown but not ``counted`` in the audit."""
        start = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - start
        if counted:
            self.computing += seconds
        print(f"{name:<62} {seconds:8.2f} s   peak RSS {peak_megabytes():8.0f} MB", flush=True)
        return result


def year(options, steps: Steps, rng: np.random.Generator):
    """A year's run as benchmarks/index.py builds it: criterion points with their sources, the external rows, the
    survey estimates with their SEs and the expert aggregates with their spread."""
    framework = steps.run("framework: build and validate", lambda: build_framework(options.criteria), counted=False)
    leaves = [node for node in framework.leaves() if node.scored]
    expert_nodes = [node for node in leaves if node.channel_kinds() == (Channel.EXPERT,)]
    survey_nodes = [node for node in leaves if node.scoring.method is ScoringMethod.SURVEY]
    print(f"  {len(leaves)} criteria: {len(survey_nodes)} survey, {len(expert_nodes)} experts alone")
    questionnaire = citizens_questionnaire(framework)

    survey = steps.run(
        f"survey: {options.responses:,} responses",
        lambda: synthetic_responses(questionnaire, options.responses, rng),
        counted=False,
    )
    weights = rng.uniform(0.5, 2.0, len(survey))
    estimates = steps.run(
        "survey: estimates with SEs",
        lambda: survey_estimates(survey, framework, questionnaire, weights=weights),
        counted=False,
    )
    survey = None  # the responses' memory is freed before the next steps

    forms = steps.run(
        f"experts: {options.forms:,} forms",
        lambda: synthetic_expert_forms(expert_nodes, options.forms, rng),
        counted=False,
    )

    expert_table, (expert_points, expert_external) = steps.run(
        "experts: aggregates with spread", lambda: expert_aggregates(framework, forms), counted=False
    )

    def self_assessment():
        rows = template_rows(framework, PROVINCES)
        for row in rows:
            if row["method"] == "yes_no":
                row["value"] = "có" if rng.random() < 0.7 else "không"
            else:
                row["value"] = f"{rng.uniform(0, 100):.1f}".replace(".", ",")
            row["evidence"] = "Báo cáo 1/BC-UBND"
        checked = check_self_assessment(rows, framework, PROVINCES)
        return pd.DataFrame(
            [
                {"unit": r.unit, "criterion": r.criterion, "points": r.points, "appraised_points": np.nan}
                for r in checked.valid
            ]
        )

    assessed = steps.run("self-assessment: every row scored", self_assessment, counted=False)
    cyber_rows = [
        {"unit": u, "node": f"{p}.{m}", "value": f"{rng.uniform(0.4, 0.9):.3f}"}
        for u in PROVINCES
        for p in ("DG", "DE", "DS")
        for m in MAIN_INDICES
    ]
    cyber = check_cyberspace(cyber_rows, framework, PROVINCES)
    cyberspace = pd.DataFrame([{"unit": r.unit, "node": r.node, "value": r.value} for r in cyber.valid])

    def merge():
        points = criterion_points(
            framework, PROVINCES, assessed=assessed, survey=estimates, expert=expert_points, cyberspace=cyberspace
        )
        external = pd.concat([external_values(framework, cyberspace, "cyberspace"), expert_external], ignore_index=True)
        return points, external

    points, external = steps.run("merge: criterion points and external rows", merge, counted=False)
    return framework, points, external, estimates, expert_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--forms", type=int, default=1260)
    parser.add_argument("--criteria", type=int, default=300)
    parser.add_argument("--base-samples", type=int, default=1024)
    parser.add_argument("--excluded", type=int, default=3, help="criteria with the least data an officer excluded")
    parser.add_argument("--seed", type=int, default=2023)
    options = parser.parse_args()
    rng = np.random.default_rng(options.seed)
    steps = Steps()
    framework, points, external, estimates, expert_table = year(options, steps, rng)
    # the criteria with the least data, as an officer might confirm their exclusion: the readings become a factor
    counts = points.dropna(subset=["points"]).groupby("node")["unit"].count()
    excluded = set(counts.reindex(points["node"].unique(), fill_value=0).nsmallest(options.excluded).index)
    run = {"channels": external, "excluded": excluded}
    made = steps.run("index as computed (the official ranks)", lambda: compute(framework, points, **run))
    steps.computing = 0.0

    checks = steps.run(
        "audit 1: data checks (availability, skew/kurtosis, outliers)",
        lambda: data_checks(framework, points, excluded=excluded),
    )
    found = steps.run("audit 2: structure (correlations, alpha, PCA)", lambda: structure(framework, points, **run))
    weights = found.pca_weights()
    one_at_a_time = steps.run(
        "audit 3: scenarios, one choice at a time",
        lambda: scenarios(framework, points, pca=weights, **run),
    )
    combined = steps.run(
        "audit 3: scenarios, every combination",
        lambda: scenarios(framework, points, pca=weights, combine=True, **run),
    )
    uncertainty = steps.run(
        f"audit 4: Monte Carlo and Sobol' indices, N = {options.base_samples:,}",
        lambda: global_uncertainty(
            framework,
            points,
            **run,
            survey=estimates,
            expert=expert_table,
            base_samples=options.base_samples,
            seed=options.seed,
            pca=weights,
        ),
    )
    total, peak = steps.computing, peak_megabytes()
    print(f"{'the audit (every counted step)':<62} {total:8.2f} s   peak RSS {peak:8.0f} MB")
    shift = uncertainty.sobol[uncertainty.sobol["output"] == "mean_shift"].set_index("factor")
    print(
        f"  {len(checks.criteria)} criteria, {int(checks.criteria['flagged'].sum())} failing the skew/kurtosis check; "
        f"{int((found.correlations['flag'] == 'redundant').sum())} redundant pairs; "
        f"{len(one_at_a_time.table)} + {len(combined.table)} scenarios, largest mean shift "
        f"{combined.table['mean_shift'].max():.2f}; {uncertainty.draws:,} draws over {len(uncertainty.factors)} "
        f"factors; {len(excluded)} criteria excluded; top unit {made.index_value.idxmax()}"
    )
    print(
        "  mean absolute rank shift, total Sobol' index by factor: "
        + ", ".join(f"{factor} {value:.2f}" for factor, value in shift["total"].items())
    )
    print(f"target: the audit under {SECONDS} s → {'met' if total < SECONDS else 'NOT met'} ({total:.1f} s)")
    print(f"target: peak memory under {MEGABYTES} MB → {'met' if peak < MEGABYTES else 'NOT met'} ({peak:.0f} MB)")


if __name__ == "__main__":
    main()
