"""Sample plans from an uploaded population frame."""
from __future__ import annotations

import pandas as pd

from sampling import allocate, read_population_frame, sample_size_proportion


def sample_plan(data: bytes, filename: str, strata: list[str], count: str, method: str, *, total: int | None,
                margin: float | None, power: float, minimum: int, maximum: int | None, deff: float,
                response_rate: float) -> pd.DataFrame:
    """The plan of a frame: per stratum its population, sample size (invitations) and expected margin.

    With ``method == "precision"`` every stratum gets the size that reaches ``margin`` on its own; otherwise
    ``total`` is allocated by the method.

    :raises sampling.SamplingError: for a bad frame or an impossible request
    """
    population = read_population_frame(data, strata, count, name=filename)
    if method == "precision":
        sizes = pd.Series({stratum: min(int(n_h), sample_size_proportion(
            margin, population=n_h, deff=deff, response_rate=response_rate)) if n_h > 0 else 0
            for stratum, n_h in population.items()}, dtype=float)
        sizes.index = population.index
        total = int(sizes.sum())
        # allocating that total in proportion to the sizes gives them back, with their margins computed
        allocation = allocate(population, total, "neyman", sd=sizes / population.where(population > 0, 1),
                              deff=deff, response_rate=response_rate)
    else:
        allocation = allocate(population, total, method, power=power, minimum=minimum, maximum=maximum,
                              deff=deff, response_rate=response_rate)
    table = allocation.table.copy()
    table["expected_respondents"] = (table["size"] * response_rate).round(1)
    return table.reset_index()
