"""Benchmark: a full scoring year for 63 provinces with the domain libraries, from raw inputs to rankings,
explanations, the uncertainty of the ranks and their sensitivity to the method.

    .venv/bin/python benchmarks/index.py [--responses 1000000] [--forms 1260] [--criteria 300] [--replicates 1000]

A synthetic 300-criterion framework in the shape of Decision 1726 (three pillars of seven main indices, channel
shares 80/10/10; about one criterion in six measured by the citizens' survey, one in ten by experts alone, the
rest self-assessed), 1,000,000 citizens' responses, 1,260 expert forms (20 per province), every province's
self-assessment file and cyberspace values. Prints the seconds and the process's peak memory after each step;
the target is the whole year under 60 seconds and 2 GB on the 2-core machine.
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
    aggregate,
    agreement,
    channel_noise,
    channel_points,
    channel_values,
    check_cyberspace,
    check_self_assessment,
    compute,
    criterion_points,
    explain,
    external_values,
    propose_exclusions,
    self_assessed_criteria,
    sensitivity,
    simulate_ranks,
    survey_estimates,
    template_rows,
    value_se,
)
from questionnaires import (  # noqa: E402
    Channel,
    ChannelUse,
    Framework,
    Node,
    NodeKind,
    Question,
    Questionnaire,
    QuestionType,
    RespondentGroup,
    Scoring,
    ScoringMethod,
    Section,
    Step,
    SurveyRule,
    Text,
    UnitLevel,
    framework_from_dict,
    framework_to_dict,
)
from questionnaires.framework import ChannelShares  # noqa: E402
from questionnaires.questions import YES_NO_CHOICES  # noqa: E402

PROVINCES = [f"{code:02d}" for code in range(1, 64)]
MAIN_INDICES = ("AW", "INST", "INFRA", "DATA", "ACT", "SEC", "HR")


def build_framework(criteria: int) -> Framework:
    """Three pillars (400/300/300) × seven main indices; each main index's 10% or 20% (activities) of its
    pillar's 80% split evenly among its criteria."""
    per_main = criteria // 21
    pillars = []
    number = 0
    for pillar_code, pillar_points in (("DG", 400.0), ("DE", 300.0), ("DS", 300.0)):
        mains = []
        for main_code in MAIN_INDICES:
            share = 0.2 if main_code == "ACT" else 0.1
            main_points = pillar_points * share
            children = []
            for k in range(per_main):
                number += 1
                code = f"{pillar_code}.{main_code}.{k + 1}"
                points = round(main_points / per_main, 6)
                if number % 6 == 0:
                    channels = (ChannelUse(Channel.SURVEY, (RespondentGroup.CITIZENS,)),)
                    scoring = Scoring(ScoringMethod.SURVEY, rule=SurveyRule.SHARE_YES)
                elif number % 10 == 0:
                    channels = (ChannelUse(Channel.EXPERT),)
                    scoring = Scoring(ScoringMethod.RATIO)
                elif number % 3 == 0:
                    channels = (ChannelUse(Channel.SELF_ASSESSMENT), ChannelUse(Channel.APPRAISAL))
                    scoring = Scoring(ScoringMethod.YES_NO)
                elif number % 3 == 1:
                    channels = (ChannelUse(Channel.SELF_ASSESSMENT), ChannelUse(Channel.APPRAISAL))
                    scoring = Scoring(ScoringMethod.RATIO, target=100.0)
                else:
                    channels = (ChannelUse(Channel.SELF_ASSESSMENT), ChannelUse(Channel.APPRAISAL))
                    scoring = Scoring(ScoringMethod.THRESHOLDS, steps=(Step(5, points / 2), Step(10, points)))
                children.append(
                    Node(
                        code,
                        NodeKind.CRITERION,
                        Text(code, code),
                        points,
                        channels=channels,
                        scoring=scoring,
                        measure="%",
                    )
                )
            main_points = sum(child.points for child in children)
            mains.append(
                Node(
                    f"{pillar_code}.{main_code}",
                    NodeKind.MAIN_INDEX,
                    Text(main_code, main_code),
                    main_points,
                    children=children,
                )
            )
        assessed = sum(main.points for main in mains)
        pillars.append(
            Node(pillar_code, NodeKind.PILLAR, Text(pillar_code, pillar_code), round(assessed / 0.8, 6), children=mains)
        )
    framework = Framework(
        "bench",
        UnitLevel.PROVINCE,
        2023,
        1,
        Text("bench", "bench"),
        sum(p.points for p in pillars),
        pillars,
        channel_shares=ChannelShares(0.8, 0.1, 0.1, "pillar"),
    )
    # through the file format, as a framework loaded from a file would be
    return framework_from_dict(framework_to_dict(framework))


def citizens_questionnaire(framework: Framework) -> Questionnaire:
    questions = tuple(
        Question(
            f"q_{node.code}",
            Text(node.code, node.code),
            QuestionType.YES_NO,
            (RespondentGroup.CITIZENS,),
            criterion=node.code,
            choices=YES_NO_CHOICES,
        )
        for node in framework.leaves()
        if node.scoring.method is ScoringMethod.SURVEY
    )
    return Questionnaire("bench", 2023, 1, RespondentGroup.CITIZENS, (Section("s", Text("s", "s"), questions),))


class Steps:
    def __init__(self):
        self.computing = 0.0
        self.rows = []

    def run(self, name: str, work, *, counted: bool = True):
        """Time one step; the synthetic data's generation is shown but not ``counted`` in the year."""
        start = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - start
        if counted:
            self.computing += seconds
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.rows.append((name, seconds, peak))
        print(f"{name:<58} {seconds:8.2f} s   peak RSS {peak:8.0f} MB", flush=True)
        return result


def synthetic_responses(questionnaire, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` citizens' yes/no answers over the 63 provinces, each province with its own level of yes, 5% of the
    answers left blank."""
    units = rng.choice(PROVINCES, size=n)
    level = {code: 0.3 + 0.5 * rng.random() for code in PROVINCES}
    chance = np.array([level[u] for u in units])
    table = {"unit": units}
    for question in questionnaire.questions():
        answered = rng.random(n) < 0.95
        yes = rng.random(n) < chance
        # as an extract of the answers is read for analysis: one small integer per answer, not a string
        table[question.code] = pd.Categorical.from_codes(
            np.where(answered, np.where(yes, 0, 1), -1), categories=["yes", "no"]
        )
    return pd.DataFrame(table)


def synthetic_expert_forms(expert_nodes, forms: int, rng: np.random.Generator) -> pd.DataFrame:
    """``forms`` experts' 1-5 scores spread evenly over the provinces, each province with its own level, 5% of the
    items left unjudged."""
    per_unit = forms // len(PROVINCES)
    items = [node.code for node in expert_nodes]
    rows = []
    for unit in PROVINCES:
        level = 2 + 2.5 * rng.random()
        for expert in range(per_unit):
            scores = np.clip(np.round(level + rng.normal(0, 0.7, len(items))), 1, 5)
            scores[rng.random(len(items)) < 0.05] = np.nan
            rows.append(pd.DataFrame({"unit": unit, "expert": f"{unit}-{expert}", "item": items, "score": scores}))
    return pd.concat(rows, ignore_index=True)


def expert_aggregates(framework, forms: pd.DataFrame):
    """The experts' aggregates per unit and item with their value and its SE on the 1-5 scale, and the channel's
    points (``analysis.channel_points``)."""
    table = aggregate(forms)
    table["value_se"] = value_se(table, (1, 5))
    values = channel_values(table, (1, 5))
    table["value"] = values["value"].to_numpy()
    return table, channel_points(framework, values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--forms", type=int, default=1260)
    parser.add_argument("--criteria", type=int, default=300)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2023)
    options = parser.parse_args()
    rng = np.random.default_rng(options.seed)
    steps = Steps()

    framework = steps.run("framework: build and validate", lambda: build_framework(options.criteria))
    leaves = [node for node in framework.leaves() if node.scored]
    survey_nodes = [node for node in leaves if node.scoring.method is ScoringMethod.SURVEY]
    expert_nodes = [node for node in leaves if node.channel_kinds() == (Channel.EXPERT,)]
    print(
        f"  {len(leaves)} criteria: {len(survey_nodes)} survey, {len(expert_nodes)} experts alone, "
        f"{len(self_assessed_criteria(framework))} self-assessed"
    )
    questionnaire = citizens_questionnaire(framework)

    survey = steps.run(
        f"survey: generate {options.responses:,} responses (not counted)",
        lambda: synthetic_responses(questionnaire, options.responses, rng),
        counted=False,
    )
    weights = rng.uniform(0.5, 2.0, len(survey))
    estimates = steps.run(
        "survey: weighted estimates, SE and CI per criterion × unit",
        lambda: survey_estimates(survey, framework, questionnaire, weights=weights),
    )
    survey = None  # the responses' memory is freed before the next steps

    scores = steps.run(
        f"experts: generate {options.forms:,} forms (not counted)",
        lambda: synthetic_expert_forms(expert_nodes, options.forms, rng),
        counted=False,
    )

    def expert_channel():
        table, points = expert_aggregates(framework, scores)
        return table, agreement(scores), points

    expert_table, panel_agreement, (expert_points, expert_external) = steps.run(
        "experts: aggregates, agreement, channel points", expert_channel
    )

    def self_assessment():
        rows = template_rows(framework, PROVINCES)
        for row in rows:
            if row["method"] == "yes_no":
                row["value"] = "có" if rng.random() < 0.7 else "không"
            else:
                row["value"] = f"{rng.uniform(0, 100):.1f}".replace(".", ",")
            row["evidence"] = "Báo cáo 1/BC-UBND"
        return check_self_assessment(rows, framework, PROVINCES)

    checked = steps.run("self-assessment: template, check and score every row", self_assessment)
    assessed = pd.DataFrame(
        [
            {"unit": r.unit, "criterion": r.criterion, "value": r.value, "points": r.points, "appraised_points": np.nan}
            for r in checked.valid
        ]
    )
    cyber_rows = [
        {"unit": u, "node": f"{p}.{m}", "value": f"{rng.uniform(0.4, 0.9):.3f}"}
        for u in PROVINCES
        for p in ("DG", "DE", "DS")
        for m in MAIN_INDICES
    ]
    cyber = steps.run("cyberspace: check every row", lambda: check_cyberspace(cyber_rows, framework, PROVINCES))
    cyberspace = pd.DataFrame([{"unit": r.unit, "node": r.node, "value": r.value} for r in cyber.valid])

    def merge():
        points = criterion_points(
            framework, PROVINCES, assessed=assessed, survey=estimates, expert=expert_points, cyberspace=cyberspace
        )
        external = pd.concat([external_values(framework, cyberspace, "cyberspace"), expert_external], ignore_index=True)
        return points, external

    points, external = steps.run("merge: every channel into criterion points", merge)
    proposed = steps.run(
        "exclusions: criteria with data for < 50% of units", lambda: propose_exclusions(points, PROVINCES)
    )
    scores_ = steps.run("index: every node, the index, ranks", lambda: compute(framework, points, channels=external))
    ranks = scores_.ranks()
    steps.run(
        "explanations: all 63 units",
        lambda: [
            explain(
                framework,
                scores_,
                unit,
                points=points,
                assessed=assessed,
                survey=estimates,
                expert=expert_table,
                agreement=panel_agreement,
            )
            for unit in PROVINCES
        ],
    )

    def uncertainty():
        leaves, external_noise = channel_noise(framework, points, survey=estimates, expert=expert_table)
        noisy = points.merge(leaves[["unit", "node"]], on=["unit", "node"])
        return simulate_ranks(
            framework,
            noisy,
            leaves,
            index_value=scores_.index_value,
            replicates=options.replicates,
            external_noise=external_noise,
        )

    simulated = steps.run(f"uncertainty: {options.replicates:,} simulated rankings", uncertainty)
    moved = steps.run(
        "sensitivity: 3 normalisations × 9 channel-share pairs",
        lambda: sensitivity(framework, points, channels=external),
    )
    total = steps.computing
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'whole year (every counted step)':<58} {total:8.2f} s   peak RSS {peak:8.0f} MB")
    print(
        f"  proposed exclusions: {len(proposed)}; top unit {ranks['index'].idxmin()} "
        f"index {scores_.index_value.max():.4f}; rank intervals median width "
        f"{(simulated.units['rank_high'] - simulated.units['rank_low']).median():.0f}; "
        f"largest rank spread over the methods {moved.summary['spread'].max()}"
    )
    print(f"target: under 60 s and 2048 MB → {'met' if total < 60 and peak < 2048 else 'NOT met'}")


if __name__ == "__main__":
    main()
