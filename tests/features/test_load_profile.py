import numpy as np
import pandas as pd
import pytest

from powerlens.features.load_profile import (
    daily_extreme_features,
    daily_extremes,
    daily_features,
    hourly_features,
    to_matrix,
    weather_features,
    with_daily_from_hourly,
)


def _daily(values, start="2025-01-01", cid="c1"):
    ts = pd.date_range(start, periods=len(values), freq="D")
    return pd.DataFrame({"customer_id": cid, "ts": ts, "kwh": np.asarray(values, dtype=float)})


def test_flat_series_has_load_factor_one_and_no_theft_signal():
    m = to_matrix(_daily([10.0] * 400), pd.Index(["c1"]), "1D")
    f = daily_features(m, pd.Timestamp("2026-02-01"), 365).loc["c1"]
    assert f["daily_load_factor"] == pytest.approx(1.0)
    assert f["daily_cv"] == pytest.approx(0.0)
    assert f["zero_days_90d"] == 0 and f["longest_zero_streak"] == 0
    assert f["kwh_365d"] == pytest.approx(3650.0)


def test_meter_zeroed_shows_as_zero_streak_and_level_drop():
    values = [10.0] * 300 + [0.0] * 65
    m = to_matrix(_daily(values), pd.Index(["c1"]), "1D")
    f = daily_features(m, pd.Timestamp("2026-01-01"), 365).loc["c1"]
    assert f["longest_zero_streak"] == 65
    assert f["zero_days_90d"] == 65
    assert f["largest_level_drop"] == pytest.approx(1.0)


def test_daily_min_and_max_interval_loads_give_the_intraday_indicators_they_can():
    """A source with daily energy and each day's smallest and largest half-hour (the London
    sample) gets load factor, min/max rate, base load and peak kW; tariff shares need hours."""
    days = _daily([12.0] * 30 + [24.0] * 30)
    days = days.assign(kwh_min_interval=np.r_[[0.1] * 30, [0.2] * 30], kwh_max_interval=np.r_[[0.5] * 30, [1.0] * 30],
                       n_intervals=48, partial_day=False)
    days.loc[59, ["kwh_max_interval", "partial_day"]] = [9.0, True]  # a partial day does not count
    ids = pd.Index(["c1", "c2"])
    f = daily_extreme_features(daily_extremes(days, ids), pd.Timestamp("2025-03-02"), 365,
                               pd.Series([4.0, np.nan], index=ids))
    c1 = f.loc["c1"]
    mean_kw = (12.0 * 30 + 24.0 * 29) / 59 / 24
    assert c1["peak_kw"] == pytest.approx(2.0)  # 1 kWh in half an hour
    assert c1["load_factor"] == pytest.approx(mean_kw / 2.0)
    assert c1["min_max_rate"] == pytest.approx(0.2) and c1["peak_valley_diff_rate"] == pytest.approx(0.8)
    assert c1["base_load_share"] == pytest.approx(0.2 / mean_kw)
    assert c1["capacity_utilisation"] == pytest.approx(0.5)
    assert f.loc["c2"].isna().all()  # no readings at all
    # data on or after the cut-off changes nothing
    later = daily_extreme_features(daily_extremes(days, ids), pd.Timestamp("2025-01-31"), 365, pd.Series(4.0, ids))
    assert later.loc["c1", "peak_kw"] == pytest.approx(1.0)


def test_missing_data_streak_counts_the_longest_gap_after_the_first_reading():
    values = np.full(365, 10.0)
    values[:20] = np.nan  # before the meter's first reading: not missing
    values[100:112] = np.nan
    values[200:205] = np.nan
    m = to_matrix(_daily(values).dropna(), pd.Index(["c1"]), "1D")
    f = daily_features(m, pd.Timestamp("2026-01-01"), 365).loc["c1"]
    assert f["longest_missing_streak"] == 12 and f["missing_days"] == 17


def test_growth_is_measured_year_over_year():
    values = [10.0] * 365 + [12.0] * 365
    m = to_matrix(_daily(values), pd.Index(["c1"]), "1D")
    f = daily_features(m, pd.Timestamp("2027-01-01"), 365).loc["c1"]
    assert f["trend_pct_per_year"] == pytest.approx(20.0, rel=0.01)


def test_away_spells_and_high_days_from_daily_readings_before_the_cutoff():
    """A spell away is 3+ days under 70% of the usual daily energy (the median of the days
    around); readings on or after the cut-off change nothing."""
    from powerlens.features.load_profile import SeriesMatrix, _count_runs, absence_features

    runs = np.array([[1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1], [0] * 11, [1] * 11], dtype=bool)
    assert list(_count_runs(runs, 3)) == [2, 0, 1] and list(_count_runs(runs, 2)) == [3, 0, 1]
    days, start = 200, pd.Timestamp("2020-01-01")
    x = np.full((2, days + 30), 10.0, dtype=np.float32)
    x[0, 50:54] = 2.0      # four days away: one spell
    x[0, 100:102] = 2.0    # two low days: not a spell
    x[0, 150] = 20.0       # one unusually high day
    x[1, :] = np.nan       # no readings: unknown
    as_of = start + pd.Timedelta(days=days)
    m = SeriesMatrix(pd.Index(["a", "b"]), start, pd.Timedelta(days=1), x)
    f = absence_features(m, as_of, 365)
    assert f.loc["a", "away_spells"] == pytest.approx(365 / days)
    assert f.loc["a", "high_day_share"] == pytest.approx(1 / days)
    assert f.loc["b"].isna().all()
    later = x.copy()
    later[:, days:] = 0.0  # the days on and after the cut-off
    pd.testing.assert_frame_equal(f, absence_features(SeriesMatrix(m.customer_ids, start, m.step, later), as_of, 365))


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
