"""The partitioned feature engine (local and Dask) and the features added with it: weather
sensitivity, monthly seasonal indices, regional tariff periods, daily indicators from hourly data."""

import numpy as np
import pandas as pd
import pytest

from powerlens import features as F
from powerlens.features.engine import build_features, data_end_of, plan_partitions
from powerlens.features.load_profile import (
    daily_features,
    hourly_features,
    to_matrix,
    weather_features,
    with_daily_from_hourly,
)

CUTOFFS = [pd.Timestamp("2026-05-01"), pd.Timestamp("2026-11-01")]


@pytest.fixture(scope="module")
def local_partitioned(small_clean):
    return build_features(small_clean, CUTOFFS, {}, profile_cutoff=CUTOFFS[-1], customers_per_partition=150)


def test_partitions_cover_every_customer_once():
    parts = plan_partitions([f"c{i:03d}" for i in range(10)][::-1] + ["c003"], 4)
    assert [p.n_customers for p in parts] == [4, 4, 2]
    assert parts[0].first_id == "c000" and parts[0].last_id == "c003" and parts[-1].last_id == "c009"


def test_partitioned_local_engine_equals_the_whole_table_build(small_clean, small_data, local_partitioned):
    feats, profiles = local_partitioned
    whole = pd.concat([F.build(small_data, c) for c in CUTOFFS], ignore_index=True)
    whole = whole.sort_values(["as_of", "customer_id"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(feats, whole)
    expected = F.profile_matrix(small_data, CUTOFFS[-1]).sort_index()
    pd.testing.assert_frame_equal(profiles, expected, check_names=False)


def test_two_partitions_at_once_give_the_same_features(small_clean, local_partitioned):
    feats, profiles = build_features(small_clean, CUTOFFS, {}, profile_cutoff=CUTOFFS[-1], threads=2,
                                     customers_per_partition=150)
    pd.testing.assert_frame_equal(feats, local_partitioned[0])
    pd.testing.assert_frame_equal(profiles, local_partitioned[1])


def test_dask_engine_gives_identical_features(small_clean, local_partitioned):
    feats, profiles = build_features(small_clean, CUTOFFS, {}, profile_cutoff=CUTOFFS[-1], engine="dask",
                                     customers_per_partition=150)
    pd.testing.assert_frame_equal(feats, local_partitioned[0])
    pd.testing.assert_frame_equal(profiles, local_partitioned[1])


def test_unknown_engine_and_unreachable_scheduler_are_clear_errors(small_clean):
    with pytest.raises(ValueError, match="unknown engine 'spark'"):
        build_features(small_clean, CUTOFFS, {}, engine="spark")
    with pytest.raises(RuntimeError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        build_features(small_clean, CUTOFFS, {}, engine="dask", scheduler="tcp://127.0.0.1:9",
                       scheduler_timeout=2)


def test_a_customer_range_reads_the_same_rows_and_types_as_a_filtered_full_read(small_clean):
    from powerlens.schema import CANONICAL_FILES, read_customer_range, read_table

    ids = sorted(read_table(small_clean, "customers")["customer_id"])
    first, last = ids[100], ids[250]
    for table in CANONICAL_FILES:
        full = read_table(small_clean, table)
        if "customer_id" not in full:
            continue
        inside = full["customer_id"].astype(str).between(first, last)
        part = read_customer_range(small_clean, table, first, last)
        assert len(part) == int(inside.sum()) > 0 or table in ("labels", "calendar", "weather_daily")
        pd.testing.assert_frame_equal(part.reset_index(drop=True), full[inside.to_numpy()].reset_index(drop=True),
                                      check_categorical=False)


def test_data_end_from_parquet_statistics_matches_the_loaded_data(small_clean, small_data):
    assert data_end_of(small_clean) == small_data.data_end


def _frame(values, start, freq, cid="c1"):
    ts = pd.date_range(start, periods=len(values), freq=freq)
    return pd.DataFrame({"customer_id": cid, "ts": ts, "kwh": np.asarray(values, dtype=np.float32)})


def test_hourly_only_customers_get_daily_indicators_from_complete_days():
    hours = np.tile(np.r_[np.full(8, 0.5), np.full(16, 1.0)], 400)  # 20 kWh a day
    hours[24 * 10 + 3] = np.nan  # one incomplete day is not a day
    ids = pd.Index(["c1"])
    hourly = to_matrix(_frame(hours, "2025-01-01", "h"), ids, "1h")
    empty = to_matrix(pd.DataFrame({"customer_id": [], "ts": pd.to_datetime([]), "kwh": []}), ids, "1D")
    daily = with_daily_from_hourly(empty, hourly)
    assert daily.values.shape[1] == 400 and np.isnan(daily.values[0, 10])
    f = daily_features(daily, pd.Timestamp("2026-01-01"), 365).loc["c1"]
    assert f["kwh_daily_mean"] == pytest.approx(20.0)
    assert f["missing_days"] == 1  # the incomplete day is a missing day


def test_heating_and_cooling_sensitivity_recover_the_degree_day_response():
    days = pd.date_range("2025-01-01", periods=365, freq="D")
    temp = 12 + 14 * np.sin(2 * np.pi * (days.dayofyear.to_numpy() - 110) / 365)
    hdd, cdd = np.maximum(15.5 - temp, 0), np.maximum(temp - 22.0, 0)
    heating_home = 10 + 0.8 * hdd
    cooled_shop = 40 + 3.0 * cdd
    readings = pd.concat([_frame(heating_home, "2025-01-01", "D", "home"),
                          _frame(cooled_shop, "2025-01-01", "D", "shop")])
    m = to_matrix(readings, pd.Index(["home", "shop"]), "1D")
    weather = pd.DataFrame({"date": days, "region": "south", "temperature_mean": temp})
    f = weather_features(m, pd.Timestamp("2026-01-01"), 365, pd.Series(["south", "south"], index=["home", "shop"]),
                         weather)
    assert f.loc["home", "heating_sensitivity"] == pytest.approx(0.8 / heating_home.mean() * 100, rel=1e-3)
    assert f.loc["home", "cooling_sensitivity"] == pytest.approx(0.0, abs=1e-6)
    assert f.loc["shop", "cooling_sensitivity"] == pytest.approx(3.0 / cooled_shop.mean() * 100, rel=1e-3)
    # a region without weather gets no sensitivity rather than a made-up one
    g = weather_features(m, pd.Timestamp("2026-01-01"), 365, pd.Series(["north", "north"], index=["home", "shop"]),
                         weather)
    assert g.isna().all().all()


def test_synthetic_heating_sensitivity_follows_the_generator(small_data, small_truth):
    feats = F.build(small_data, "2026-11-01").merge(pd.read_parquet(small_truth), on="customer_id")
    assert feats["heating_sensitivity"].notna().mean() > 0.9
    by_shape = feats.groupby("load_shape_class")["heating_sensitivity"].median()
    # homes heat with electricity; irrigation pumps run in the warm season, so cold days use less
    assert by_shape["evening_peak"] > 1.5 and by_shape["double_peak"] > 1.5
    assert by_shape["seasonal_agri"] < 0


def test_monthly_seasonal_indices_show_the_season():
    values = np.full(365, 10.0)
    days = pd.date_range("2025-01-01", periods=365, freq="D")
    values[days.month == 1] = 20.0
    m = to_matrix(_frame(values, "2025-01-01", "D"), pd.Index(["c1"]), "1D")
    f = daily_features(m, pd.Timestamp("2026-01-01"), 365).loc["c1"]
    assert f["month_01_index"] == pytest.approx(20.0 / values.mean())
    assert f["month_07_index"] == pytest.approx(10.0 / values.mean())


def test_tariff_periods_follow_the_customers_region():
    one_day = np.r_[np.full(12, 1.0), np.full(12, 3.0)]  # afternoon/evening heavy
    readings = pd.concat([_frame(np.tile(one_day, 30), "2026-01-01", "h", cid) for cid in ("a", "b")])
    ids = pd.Index(["a", "b"])
    m = to_matrix(readings, ids, "1h")
    regions = pd.Series(["west", "east"], index=ids)
    f = hourly_features(m, pd.Timestamp("2026-02-01"), 365, pd.Series([10.0, 10.0], index=ids),
                        peak_hours=[8, 9, 10, 11], valley_hours=[0, 1, 2, 3], regions=regions,
                        tou_by_region={"East": {"peak_hours": [18, 19, 20, 21], "valley_hours": [4, 5, 6, 7]}})
    total = one_day.sum()
    assert f.loc["a", "peak_share"] == pytest.approx(4 / total)
    assert f.loc["b", "peak_share"] == pytest.approx(12 / total)
    assert f.loc["b", "valley_share"] == pytest.approx(4 / total)
    assert f.loc["b", "flat_share"] == pytest.approx(1 - 16 / total)
