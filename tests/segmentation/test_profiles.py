"""The look-back of readings and its profiles: day bootstrap, point in time."""


import numpy as np
import pandas as pd
import pytest

from powerlens.segmentation.clustering import DOW, HOURS, MONTHS
from powerlens.segmentation.profiles import LookBack, raw_profiles, read_look_back, resampled_days
from support import random_look_back as _look_back


def test_day_bootstrap_keeps_every_month_and_weights_the_profile():
    rng = np.random.default_rng(3)
    days = pd.date_range("2025-11-01", "2026-10-31", freq="D")
    weights = resampled_days(days, rng)
    per_month = pd.Series(weights, index=days).groupby(days.month).sum()
    assert (per_month == pd.Series(days.month).value_counts().sort_index().to_numpy()).all()
    assert (weights != 1).any() and (weights == np.round(weights)).all()
    # a weighted profile is the profile of the look-back with each day repeated `weight` times
    lb = _look_back(3, days, rng)
    weighted = raw_profiles(lb, weights)
    picked = np.repeat(np.arange(len(days)), weights.astype(int))
    repeated = LookBack(lb.customer_ids, days[picked], lb.daily[:, picked], lb.hourly_rows, lb.hourly[:, picked])
    expected = raw_profiles(repeated)
    pd.testing.assert_frame_equal(weighted[HOURS + DOW + MONTHS], expected[HOURS + DOW + MONTHS], rtol=1e-6)
    assert not np.allclose(weighted[MONTHS], raw_profiles(lb)[MONTHS])


def test_look_back_reads_only_readings_before_the_cut_off(tmp_path):
    """Point in time: readings on or after the cut-off, or before the look-back, change nothing."""
    as_of = pd.Timestamp("2026-03-01")
    days = pd.date_range("2025-01-01", "2026-06-30", freq="D")
    hours = pd.date_range("2025-12-01", "2026-06-30 23:00", freq="h")

    def write(kwh_after: float) -> None:
        daily = pd.DataFrame({"customer_id": np.repeat(["a", "b"], len(days)), "ts": np.tile(days, 2),
                              "kwh": np.tile(np.where(days >= as_of, kwh_after, 10.0 + days.month), 2)})
        daily.loc[daily["ts"] < as_of - pd.Timedelta(days=365), "kwh"] = kwh_after
        hourly = pd.DataFrame({"customer_id": "a", "ts": hours,
                               "kwh": np.where(hours >= as_of, kwh_after, 1.0 + hours.hour / 10)})
        daily.to_parquet(tmp_path / "readings_daily.parquet")
        hourly.to_parquet(tmp_path / "readings_hourly.parquet")

    write(10.0)
    before = raw_profiles(read_look_back(tmp_path, pd.Index(["a", "b", "c"]), as_of, 365))
    write(9999.0)
    lb = read_look_back(tmp_path, pd.Index(["a", "b", "c"]), as_of, 365)
    after = raw_profiles(lb)
    pd.testing.assert_frame_equal(before, after)
    assert lb.days[-1] == as_of - pd.Timedelta(days=1) and len(lb.days) == 365
    assert list(lb.hourly_rows) == [0] and after.loc["a", "wd_h12"] == pytest.approx(2.2)
    assert after.loc["c"].isna().all() and lb.coverage()["c"] == 0  # no readings: no made-up profile
