"""Reason codes."""

import re

import numpy as np
import pandas as pd

from powerlens.risk.explain import reason_codes
from powerlens.risk.models import LightGBMModel


def test_a_reason_shows_numbers_and_known_categories_but_not_a_sources_codes():
    rng = np.random.default_rng(1)
    n = 600
    area = rng.choice(["c1a2b3c4d5e6f7a8b", "c9f8e7d6c5b4a3f2e"], n)  # a pseudonymized grid-area code
    X = pd.DataFrame({"attr_grid_area": area, "region": rng.choice(["north", "south"], n),
                      "on_time_rate": rng.random(n)})
    y = ((area == "c1a2b3c4d5e6f7a8b") & (X["on_time_rate"] < 0.5) | (X["region"] == "north")
         & (X["on_time_rate"] < 0.2)).astype(int)
    model = LightGBMModel({"n_estimators": 50, "min_child_samples": 5}).fit(X, y)
    reasons = " ".join(reason_codes(model, X[y == 1].head(20)))
    assert "source attribute grid area" in reasons and "c1a2b3" not in reasons and "c9f8e7" not in reasons
    assert re.search(r"by the due date: \d+%", reasons)
