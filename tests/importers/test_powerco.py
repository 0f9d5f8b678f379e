"""The PowerCo importer on its real sample."""

from __future__ import annotations

import pandas as pd
import pytest

from powerlens.importers import import_source
from support import assert_no_raw_ids, assert_reconciled, real_data

pytestmark = [pytest.mark.slow, pytest.mark.real_data]


def test_powerco_customers_typed_with_churn_labels(key, tmp_path):
    src = real_data("powerco") / "client_data.csv.gz"
    raw = pd.read_csv(src, dtype=str)
    out = tmp_path / "pc"
    summary = import_source("powerco", src, out, key)
    assert_reconciled(summary)
    customers = pd.read_parquet(out / "customers.parquet")
    assert len(customers) == len(raw) == summary["tables"]["customers"]["rows_in"]
    assert set(customers["customer_class"]) == {"commercial"}
    assert customers["end_date"].isna().all()
    assert (customers["start_date"] == pd.to_datetime(raw["date_activ"]).to_numpy()).all()
    assert customers["has_gas"].dtype == bool and customers["has_gas"].sum() == (raw["has_gas"] == "t").sum()
    assert isinstance(customers["channel_sales"].dtype, pd.CategoricalDtype)
    assert "MISSING" in customers["channel_sales"].cat.categories
    assert customers["cons_12m"].dtype == float and str(customers["date_renewal"].dtype).startswith("datetime64")
    labels = pd.read_parquet(out / "labels.parquet")
    assert set(labels["task"]) == {"churn"} and (labels["as_of"] == pd.Timestamp("2016-01-01")).all()
    assert labels["label"].astype(int).sum() == raw["churn"].astype(int).sum()
    assert_no_raw_ids(out, set(raw["id"]))

    unlabelled = tmp_path / "client_data.csv"
    raw.drop(columns="churn").to_csv(unlabelled, index=False)
    summary = import_source("powerco", unlabelled, tmp_path / "pc2", key)
    assert not (tmp_path / "pc2" / "labels.parquet").exists() and "labels" not in summary["tables"]
    assert summary["written"]["customers"] == len(raw)
