"""Benchmark: rake 1,000,000 respondents to four margins and estimate a proportion with its standard error
for every province, under a stratified design; then the quartiles (and median) of a numeric column by province
with Woodruff's confidence intervals, under the raked design and under the design weights alone; here and (where
R with `survey` is installed) in R.

    .venv/bin/python benchmarks/weighting.py [--n 1000000] [--no-r]

Prints the seconds and peak memory of each step, R's seconds for the same steps on the same data, the
ratio (the target for the quantiles: at least 10 times R's speed), and the largest differences between the two
sets of numbers.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from analysis import Design  # noqa: E402
from analysis.distribution import quantiles  # noqa: E402
from sampling import rake  # noqa: E402

POPULATION_CSV = Path(__file__).resolve().parent.parent / "sampling" / "data" / "province_population_2019.csv"
#: the probabilities of the quantiles estimated by province
QUARTILES = (0.25, 0.5, 0.75)
#: how many times faster than R the quantiles by province should be
TARGET = 10
AGE_GROUPS = {"18-24": 0.13, "25-34": 0.21, "35-44": 0.20, "45-54": 0.18, "55-64": 0.15, "65+": 0.13}

R_SCRIPT = r"""
suppressMessages(library(survey))
args <- commandArgs(TRUE)
d <- read.csv(args[1], colClasses = c(province = "character"))
pop <- jsonlite::fromJSON(args[2])
d$province <- factor(d$province); d$sex <- factor(d$sex); d$age <- factor(d$age); d$urban <- factor(d$urban)
t0 <- proc.time()[["elapsed"]]
des <- svydesign(ids = ~1, strata = ~stratum, weights = ~weight, data = d)
totals <- c(`(Intercept)` = pop$N, setNames(pop$province[-1], paste0("province", names(pop$province)[-1])),
            sexmale = pop$sex[["male"]], setNames(pop$age[-1], paste0("age", names(pop$age)[-1])),
            urbanurban = pop$urban[["urban"]])
raked <- calibrate(des, ~province + sex + age + urban, population = unlist(totals), calfun = "raking",
                   epsilon = 1e-10, maxit = 100)
t1 <- proc.time()[["elapsed"]]
by <- svyby(~used_online, ~province, raked, svymean)
t2 <- proc.time()[["elapsed"]]
# quantiles by province with Woodruff's intervals (svyquantile's defaults: qrule "math", interval.type "mean")
quantiles_by <- function(design) {
  started <- proc.time()[["elapsed"]]
  q <- svyby(~income, ~province, design, svyquantile, quantiles = c(0.25, 0.5, 0.75), ci = TRUE,
             vartype = c("se", "ci"))
  seconds <- proc.time()[["elapsed"]] - started
  block <- function(first) as.vector(t(as.matrix(q[, first + 1:3])))  # by province, then by probability
  list(seconds = seconds, domain = as.character(q$province), estimate = block(1), se = block(4),
       low = block(7), high = block(10))
}
q_raked <- quantiles_by(raked)
q_design <- quantiles_by(des)
cat(jsonlite::toJSON(list(rake_seconds = t1 - t0, estimate_seconds = t2 - t1,
    weights_head = head(weights(raked), 1000), domain = as.character(by$province),
    estimate = unname(coef(by)), se = unname(SE(by)), quantiles_raked = q_raked, quantiles_design = q_design),
    digits = NA, auto_unbox = TRUE, na = "null"))
"""


def synthetic_respondents(n: int, seed: int = 1) -> tuple[pd.DataFrame, dict]:
    """Respondents spread over the 63 provinces in proportion to the square root of their population (a
    power allocation), stratified by province × urban/rural, with design weights from the census counts."""
    census = pd.read_csv(POPULATION_CSV, dtype={"province_code": str})
    rng = np.random.default_rng(seed)
    strata = pd.concat(
        [
            census.assign(urban="urban", count=census["urban_thousand"] * 1000),
            census.assign(urban="rural", count=census["rural_thousand"] * 1000),
        ]
    )
    strata["size"] = np.sqrt(strata["count"])
    strata["n"] = np.floor(n * strata["size"] / strata["size"].sum()).astype(int)
    strata.iloc[: n - strata["n"].sum(), strata.columns.get_loc("n")] += 1
    rows = np.repeat(np.arange(len(strata)), strata["n"].to_numpy())
    data = pd.DataFrame(
        {
            "province": strata["province_code"].to_numpy()[rows],
            "urban": strata["urban"].to_numpy()[rows],
            "stratum": (strata["province_code"] + "-" + strata["urban"]).to_numpy()[rows],
            "weight": (strata["count"] / strata["n"]).to_numpy()[rows],
        }
    )
    data["sex"] = rng.choice(["female", "male"], n, p=[0.55, 0.45])  # women answer more: raking corrects it
    data["age"] = rng.choice(list(AGE_GROUPS), n, p=[0.10, 0.18, 0.22, 0.20, 0.17, 0.13])
    province_effect = data["province"].astype(int).to_numpy() / 200
    data["used_online"] = (
        rng.uniform(size=n) < 0.35 + province_effect + (data["urban"] == "urban") * 0.15 - (data["age"] == "65+") * 0.2
    ).astype(int)
    # a skewed amount (an income, in millions of dong), rounded to cents so that many respondents tie
    data["income"] = np.round(rng.lognormal(1.5 + province_effect + (data["urban"] == "urban") * 0.3, 0.6), 2)
    # survey variables are stored as categoricals, as R stores them as factors
    for column in ("province", "urban", "stratum", "sex", "age"):
        data[column] = data[column].astype("category")
    adults = census["total_thousand"].sum() * 1000
    male_share = census["male_thousand"].sum() / census["total_thousand"].sum()
    population = {
        "N": adults,
        "province": dict(zip(census["province_code"], census["total_thousand"] * 1000)),
        "sex": {"female": adults * (1 - male_share), "male": adults * male_share},
        "age": {group: adults * share for group, share in AGE_GROUPS.items()},
        "urban": {"rural": census["rural_thousand"].sum() * 1000, "urban": census["urban_thousand"].sum() * 1000},
    }
    # census rounding: make urban/rural add up to the same total as the provinces
    population["urban"]["rural"] = adults - population["urban"]["urban"]
    return data, population


def measure(step):
    tracemalloc.start()
    started = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, seconds, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--no-r", action="store_true", help="skip the R comparison")
    args = parser.parse_args()

    data, population = synthetic_respondents(args.n)
    margins = {
        "province": population["province"],
        "sex": population["sex"],
        "age": population["age"],
        "urban": population["urban"],
    }
    print(
        f"respondents: {len(data):,}  strata: {data['stratum'].nunique()}  margins: 63 provinces, 2 sexes, "
        f"6 age groups, urban/rural"
    )

    weighting, rake_seconds, rake_mb = measure(lambda: rake(data, data["weight"], margins, tolerance=1e-10))
    print(
        f"rake:                 {rake_seconds:8.2f} s  peak {rake_mb:7.0f} MiB  "
        f"({weighting.diagnostics.iterations} iterations, weight ratio {weighting.diagnostics.ratio:.2f}, "
        f"Kish deff {weighting.diagnostics.deff_weighting:.3f})"
    )

    def estimate():
        design = Design(data, weighting.weights, strata="stratum", calibrations=[weighting.calibration])
        return design.mean("used_online", by="province")

    table, estimate_seconds, estimate_mb = measure(estimate)
    print(f"per-province mean+SE: {estimate_seconds:8.2f} s  peak {estimate_mb:7.0f} MiB")

    # quantiles: the raked design, and the design weights alone (R subsets the rows of an uncalibrated design for
    # every domain, but keeps a calibrated design whole, so R's times differ most between the two)
    raked_design = Design(data, weighting.weights, strata="stratum", calibrations=[weighting.calibration])
    plain_design = Design(data, "weight", strata="stratum")
    quantile_tables = {}
    for name, design in (("raked", raked_design), ("design", plain_design)):
        quantile_tables[name] = measure(lambda design=design: quantiles(design, "income", QUARTILES, by="province"))
        _, seconds, mb = quantile_tables[name]
        print(f"{f'quartiles by province, {name} weights:':45s}{seconds:8.2f} s  peak {mb:7.0f} MiB")
    print(f"process peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")

    if args.no_r or shutil.which("Rscript") is None:
        print("R: skipped" if args.no_r else "R: Rscript not found (apt-get install r-cran-survey r-cran-jsonlite)")
        return
    with tempfile.TemporaryDirectory() as folder:
        csv, pop_json, script = Path(folder, "data.csv"), Path(folder, "pop.json"), Path(folder, "bench.R")
        data.to_csv(csv, index=False)
        pop_json.write_text(json.dumps(population))
        script.write_text(R_SCRIPT)
        print("R: running (several minutes)...", flush=True)
        done = subprocess.run(["Rscript", str(script), str(csv), str(pop_json)], capture_output=True, text=True)
        if done.returncode != 0:
            print("R failed:", done.stderr[-2000:])
            return
        r = json.loads(done.stdout)
    r_rake, r_estimate = r["rake_seconds"], r["estimate_seconds"]
    print(f"R rake:                 {r_rake:8.2f} s   ratio R/ours {r_rake / rake_seconds:6.1f}x")
    print(f"R per-province mean+SE: {r_estimate:8.2f} s   ratio R/ours {r_estimate / estimate_seconds:6.1f}x")
    ours = table.reindex(r["domain"])
    weight_gap = np.max(np.abs(weighting.weights[:1000] / np.array(r["weights_head"]) - 1))
    estimate_gap = np.max(np.abs(ours["estimate"].to_numpy() / np.array(r["estimate"]) - 1))
    se_gap = np.max(np.abs(ours["se"].to_numpy() / np.array(r["se"]) - 1))
    print(f"largest relative differences: weights {weight_gap:.1e}, estimates {estimate_gap:.1e}, SE {se_gap:.1e}")
    for name in ("raked", "design"):
        table, seconds, _ = quantile_tables[name]
        reference = r[f"quantiles_{name}"]
        ratio = reference["seconds"] / seconds
        verdict = "met" if ratio >= TARGET else "NOT met"
        print(
            f"{f'R quartiles by province, {name} weights:':45s}{reference['seconds']:8.2f} s   ratio R/ours "
            f"{ratio:6.1f}x   target >= {TARGET}x R: {verdict}"
        )
        ours = table.reindex(pd.MultiIndex.from_product([reference["domain"], QUARTILES]))
        gaps = {
            column: np.nanmax(np.abs(ours[column].to_numpy() / np.array(reference[key], dtype=float) - 1))
            for column, key in (("estimate", "estimate"), ("se", "se"), ("ci_low", "low"), ("ci_high", "high"))
        }
        print("  largest relative differences: " + ", ".join(f"{column} {gap:.1e}" for column, gap in gaps.items()))


if __name__ == "__main__":
    main()
