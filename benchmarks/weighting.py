"""Benchmark: rake 1,000,000 respondents to four margins and estimate a proportion with its standard error
for every province, under a stratified design, here and (where R with `survey` is installed) in R.

    .venv/bin/python benchmarks/weighting.py [--n 1000000] [--no-r]

Prints the seconds and peak memory of each step, R's seconds for the same steps on the same data, the
ratio, and the largest differences between the two sets of numbers.
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
from sampling import rake  # noqa: E402

POPULATION_CSV = Path(__file__).resolve().parent.parent / "sampling" / "data" / "province_population_2019.csv"
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
cat(jsonlite::toJSON(list(rake_seconds = t1 - t0, estimate_seconds = t2 - t1,
    weights_head = head(weights(raked), 1000), domain = as.character(by$province),
    estimate = unname(coef(by)), se = unname(SE(by))), digits = NA, auto_unbox = TRUE))
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


if __name__ == "__main__":
    main()
