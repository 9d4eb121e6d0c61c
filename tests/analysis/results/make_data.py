"""Writes survey_sample.csv, the synthetic respondents that reference.R and the tests share.

A two-stage stratified sample: 6 strata, PSUs (communes) within strata, SSUs (villages) within PSUs, a few
respondents per village; design weights from the stage probabilities, and variables to estimate.
Run once: python make_data.py (the CSV is committed, so R and Python read the very same numbers).
"""

import numpy as np
import pandas as pd

rng = np.random.default_rng(20261123)
rows = []
for stratum in range(1, 7):
    psu_population = int(rng.integers(20, 40))
    psu_sample = int(rng.integers(3, 6))
    for psu in range(1, psu_sample + 1):
        ssu_population = int(rng.integers(8, 15))
        ssu_sample = int(rng.integers(2, 4))
        for ssu in range(1, ssu_sample + 1):
            for _person in range(int(rng.integers(3, 7))):
                rows.append(
                    {
                        "stratum": f"S{stratum}",
                        "psu": f"S{stratum}P{psu}",
                        "ssu": f"S{stratum}P{psu}V{ssu}",
                        "fpc1": psu_population,
                        "fpc2": ssu_population,
                        "weight": round(psu_population / psu_sample * ssu_population / ssu_sample * 25, 6),
                    }
                )
data = pd.DataFrame(rows)
n = len(data)
stratum_effect = data["stratum"].str[1:].astype(int)
data["sex"] = rng.choice(["female", "male"], n)
data["age"] = rng.choice(["18-34", "35-54", "55+"], n, p=[0.4, 0.35, 0.25])
data["urban"] = rng.choice(["rural", "urban"], n, p=[0.6, 0.4])
data["province"] = rng.choice(["P01", "P02", "P03", "P04", "P05"], n)
data["x"] = np.round(rng.gamma(4, 2, n) + stratum_effect, 4)
data["y"] = np.round(2 + 0.8 * data["x"] + rng.normal(0, 2, n) + (data["urban"] == "urban") * 1.5, 4)
data["used_online"] = (rng.uniform(size=n) < 0.3 + 0.05 * stratum_effect).astype(int)
data["satisfaction"] = rng.choice(["1", "2", "3", "4", "5"], n, p=[0.05, 0.1, 0.25, 0.35, 0.25])
data.loc[rng.choice(n, 7, replace=False), "y"] = np.nan
data.to_csv("survey_sample.csv", index=False)
print(n, "rows")
