"""Load shapes on the real London smart-meter sample (daily aggregates with the day's largest
and smallest half-hour): the chosen clustering must be stable when customers and days are
resampled."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from powerlens.features import active_at
from powerlens.importers import import_source
from powerlens.schema import read_table
from powerlens.segmentation import cluster_from_params, read_look_back
from support import ROOT, real_data

pytestmark = [pytest.mark.slow, pytest.mark.real_data]


def test_lcl_load_shapes_are_stable_under_customer_and_day_bootstrap(tmp_path, key):
    clean = tmp_path / "clean"
    import_source("lcl", real_data("lcl_london"), clean, key)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())["segment"]["clustering"]
    customers = read_table(clean, "customers")
    data_end = read_table(clean, "readings_daily", ["ts"])["ts"].max() + pd.Timedelta(days=1)
    ids = pd.Index(customers.loc[active_at(customers, data_end), "customer_id"].astype(str))
    look_back = read_look_back(clean, ids, data_end, params["history_days"])
    assert len(look_back.hourly_rows) == 0 and look_back.peak_kwh is not None  # daily aggregates only
    result = cluster_from_params(look_back, params)
    c = result.candidates
    chosen = c[c["chosen"]].iloc[0]
    assert set(c["family"]) == {"daily"} and set(c["algorithm"]) == {"kmeans", "gmm", "agglomerative"}
    assert chosen["k"] >= 3 and chosen["admissible"] and chosen["smallest_share"] >= params["min_cluster_share"]
    assert chosen["stability_ari"] >= 0.8
    names = list(result.names.values())
    assert len(set(names)) == len(names) and not any(n[-2:-1] == "_" and n[-1].isdigit() for n in names)
    assert result.reasons.str.contains("peak/base load").all()
    labels = result.labels.reindex(ids)
    assert labels.notna().all() and labels.value_counts(normalize=True).min() >= 0.01
