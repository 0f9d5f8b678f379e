"""The regional analysis on tiny hand-built frames: load factor, peak-valley rate, coincident peak
share, the total as the hourly sum of the regions, gaps that stay gaps, weather sensitivity and
weather-normalized growth recovered from known coefficients, steps found (and seasonal swings,
short shutdowns not), line loss and sales from the customers, the temperature sources."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from powerlens import regional as R
from powerlens.errors import InvalidInput


def hourly(region: str, start: str, values) -> pd.DataFrame:
    values = np.asarray(values, dtype=float)
    return pd.DataFrame({"region": region, "ts": pd.date_range(start, periods=len(values), freq="h"),
                         "load_kw": values, "outage": False})


def day_profile(low: float, high: float) -> np.ndarray:
    """24 hours: `low` at night (0-7), `high` in the day (8-19), midway in the evening."""
    return np.array([low] * 8 + [high] * 12 + [(low + high) / 2] * 4)


def analyse_load(load: pd.DataFrame, **kw) -> R.RegionalAnalysis:
    return R.analyse(load, **kw)


def row(monthly: pd.DataFrame, region: str, month: str) -> pd.Series:
    return monthly[(monthly["region"] == region) & (monthly["month"] == pd.Period(month, "M"))].iloc[0]


def two_regions() -> pd.DataFrame:
    """January 2025: north has a day peak (100 kW by day, 50 at night), south peaks at night (60, 20)."""
    north = np.tile(day_profile(50, 100), 31)
    south = np.tile(day_profile(60, 20), 31)
    return pd.concat([hourly("north", "2025-01-01", north), hourly("south", "2025-01-01", south)], ignore_index=True)


def test_load_factor_peak_valley_rate_and_coincident_peak_share():
    m = analyse_load(two_regions()).monthly
    north, south, total = row(m, "north", "2025-01"), row(m, "south", "2025-01"), row(m, "total", "2025-01")
    day_mean_north = day_profile(50, 100).mean()
    assert north["energy_kwh"] == pytest.approx(day_profile(50, 100).sum() * 31)
    assert north["peak_kw"] == 100 and north["load_factor"] == pytest.approx(day_mean_north / 100)
    assert north["peak_valley_difference_rate"] == pytest.approx((100 - 50) / 100)
    assert south["peak_valley_difference_rate"] == pytest.approx((60 - 20) / 60)
    # the system peaks by day (100 + 20 = 120 > 50 + 60 at night): north carries 100/120 of it, south 20/120
    assert total["peak_kw"] == 120
    assert north["coincident_peak_share"] == pytest.approx(100 / 120)
    assert south["coincident_peak_share"] == pytest.approx(20 / 120)
    assert north["coincident_peak_share"] + south["coincident_peak_share"] == pytest.approx(1)
    # the total's peak is the coincident one, not the sum of the regions' peaks (160)
    assert total["peak_kw"] < north["peak_kw"] + south["peak_kw"]
    assert total["energy_kwh"] == pytest.approx(north["energy_kwh"] + south["energy_kwh"])
    assert total["coincident_peak_share"] == pytest.approx(1)
    assert bool(north["complete"]) and north["hours_missing"] == 0 and north["outage_hours"] == 0


def test_total_is_the_hourly_sum_of_the_regions():
    rng = np.random.default_rng(3)
    load = pd.concat([hourly(r, "2025-03-01", rng.uniform(10, 90, 24 * 61)) for r in ("a", "b", "c")],
                     ignore_index=True)
    hourly_total = R.with_total(load)
    total = hourly_total[hourly_total["region"] == R.TOTAL].set_index("ts")["load_kw"]
    expected = load.groupby("ts")["load_kw"].sum()
    pd.testing.assert_series_equal(total, expected, check_names=False)
    m = analyse_load(load).monthly
    for month in ("2025-03", "2025-04"):
        regions = m[(m["month"] == pd.Period(month, "M")) & (m["region"] != R.TOTAL)]
        assert row(m, R.TOTAL, month)["energy_kwh"] == pytest.approx(regions["energy_kwh"].sum())
        assert row(m, R.TOTAL, month)["peak_kw"] == pytest.approx(expected[expected.index.month == int(month[-2:])].max())
    with pytest.raises(InvalidInput, match="total"):
        R.with_total(hourly("total", "2025-01-01", [1.0, 2.0]))


def test_gaps_are_not_zeros():
    load = two_regions()
    missing = (load["region"] == "north") & (load["ts"] >= "2025-01-10") & (load["ts"] < "2025-01-12")  # 48 hours
    m = analyse_load(load[~missing]).monthly
    north, south, total = row(m, "north", "2025-01"), row(m, "south", "2025-01"), row(m, "total", "2025-01")
    assert north["hours_missing"] == 48 and not north["complete"] and north["hours_observed"] == 31 * 24 - 48
    assert north["energy_kwh"] == pytest.approx(day_profile(50, 100).sum() * 29)
    # the mean, load factor and peak-valley rate are those of the hours there are, not dragged by zeros
    assert north["mean_kw"] == pytest.approx(day_profile(50, 100).mean())
    assert north["load_factor"] == pytest.approx(day_profile(50, 100).mean() / 100)
    assert north["energy_kwh_scaled"] == pytest.approx(day_profile(50, 100).sum() * 31)
    assert north["peak_valley_difference_rate"] == pytest.approx(0.5)
    # the total has the same 48 hours missing: a gap in one region is a gap of the system
    assert total["hours_missing"] == 48 and total["energy_kwh"] == pytest.approx(
        north["energy_kwh"] + south["energy_kwh"] - day_profile(60, 20).sum() * 2)
    # line loss is not computed on a month with missing hours
    customers = pd.DataFrame({"customer_id": ["c1"], "region": ["north"], "customer_class": ["residential"],
                              "industry": ["household"]})
    readings = pd.DataFrame({"customer_id": "c1", "ts": pd.date_range("2025-01-01", periods=31, freq="D"),
                             "kwh": 100.0})
    m = analyse_load(load[~missing], customers=customers, readings_daily=readings).monthly
    assert np.isnan(row(m, "north", "2025-01")["line_loss"]) and row(m, "north", "2025-01")["billed_kwh"] == 3100


def test_outage_hours_are_counted_and_kept_out_of_the_peak_valley_rate():
    load = two_regions()
    out = (load["region"] == "north") & (load["ts"] >= "2025-01-05 02:00") & (load["ts"] < "2025-01-05 05:00")
    load.loc[out, ["load_kw", "outage"]] = [0.0, True]
    m = analyse_load(load).monthly
    north = row(m, "north", "2025-01")
    assert north["outage_hours"] == 3 and bool(north["complete"])
    assert north["peak_valley_difference_rate"] == pytest.approx(0.5)  # not 1.0 on the outage day


def weather_days(start: str, days: int, seed: int = 0) -> pd.DataFrame:
    """A seasonal daily mean temperature (cold winters, warm summers) with day-to-day noise."""
    dates = pd.date_range(start, periods=days, freq="D")
    rng = np.random.default_rng(seed)
    t = 14 - 12 * np.cos(2 * np.pi * (dates.dayofyear.to_numpy() - 15) / 365.25) + rng.normal(0, 3, days)
    return pd.DataFrame({"date": dates, "temperature_mean": t})


def load_from_weather(weather: pd.DataFrame, region: str, base_kwh: float, per_hdd: float, per_cdd: float,
                      growth: float = 0.0) -> pd.DataFrame:
    """Hourly load whose daily energy is base + per_hdd HDD + per_cdd CDD (18 C bases), flat
    within the day, all of it growing by `growth` at each year's anniversary of the first day
    (more customers of the same kind)."""
    t = weather["temperature_mean"].to_numpy()
    years = (weather["date"] - weather["date"].iloc[0]).dt.days.to_numpy() // 365
    daily = (base_kwh + per_hdd * np.maximum(18 - t, 0) + per_cdd * np.maximum(t - 18, 0)) * (1 + growth) ** years
    return hourly(region, str(weather["date"].iloc[0].date()), np.repeat(daily / 24, 24))


def test_weather_sensitivity_and_weather_normalized_growth():
    weather = weather_days("2023-01-01", 3 * 365)
    load = load_from_weather(weather, "north", 2400, 60, 90, growth=0.05)
    a = analyse_load(load, weather_daily=weather.assign(region="north"))
    m = a.monthly[a.monthly["region"] == "north"].set_index("month")
    # a full trailing year is needed: none in the first 11 months
    assert m.loc[pd.Period("2023-06", "M"), ["kwh_per_hdd", "kwh_per_cdd"]].isna().all()
    # within a year the base is flat: the trailing regression finds the coefficients exactly
    dec = m.loc[pd.Period("2023-12", "M")]
    assert dec["kwh_per_hdd"] == pytest.approx(60, rel=1e-6) and dec["kwh_per_cdd"] == pytest.approx(90, rel=1e-6)
    assert dec["sensitivity_days"] >= 300
    # February 2025 vs February 2024: the load grew 5% (at each 1 January); normalized for the
    # weather, growth is ~5% whatever the two months' temperatures were
    jan = m.loc[pd.Period("2025-02", "M")]
    assert jan["growth_yoy_weather_normalized"] == pytest.approx(0.05, abs=0.01)
    normalized = m["growth_yoy_weather_normalized"].loc[pd.Period("2025-02", "M"):pd.Period("2025-12", "M")]
    raw = m["growth_yoy_raw"].loc[pd.Period("2025-02", "M"):pd.Period("2025-12", "M")]
    assert (normalized - 0.05).abs().max() < 0.015
    assert (raw - 0.05).abs().max() > 2 * (normalized - 0.05).abs().max()  # the weather moves raw growth
    assert m.loc[pd.Period("2023-06", "M"), "growth_yoy_weather_normalized"] != m.loc[
        pd.Period("2023-06", "M"), "growth_yoy_weather_normalized"]  # NaN: no year earlier
    assert a.temperature_source == {"north": "weather_daily of the region"}
    hdd = m.loc[pd.Period("2023-01", "M"), "heating_degree_days"]
    t = weather[weather["date"].dt.month.eq(1) & weather["date"].dt.year.eq(2023)]["temperature_mean"]
    assert hdd == pytest.approx(np.maximum(18 - t, 0).sum())


def level_with_step(days: int, step_day: int | None, level: float, step: float, seed: int = 1,
                    shutdown: tuple[int, int] | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    daily = level * (1 + rng.normal(0, 0.01, days))
    if step_day is not None:
        daily[step_day:] += step
    if shutdown:
        daily[shutdown[0]:shutdown[1]] *= 0.2
    return hourly("plant", "2024-01-01", np.repeat(daily, 24))


def test_a_step_is_found_with_its_date_and_size():
    weather = weather_days("2024-01-01", 400).assign(region="plant")
    load = level_with_step(400, 300, 1000, 250)
    steps = analyse_load(load, weather_daily=weather).steps
    assert len(steps) == 1
    step = steps.iloc[0]
    assert step["region"] == "plant" and step["date"] == pd.Timestamp("2024-01-01") + pd.Timedelta(days=300)
    assert step["level_before_kw"] == pytest.approx(1000, rel=0.01)
    assert step["level_after_kw"] == pytest.approx(1250, rel=0.01)
    assert step["step_share"] == pytest.approx(0.25, abs=0.01)
    # a short shutdown (10 days) is not a step, nor is a flat history
    assert analyse_load(level_with_step(400, None, 1000, 0, shutdown=(200, 210)), weather_daily=weather).steps.empty
    assert analyse_load(level_with_step(400, None, 1000, 0), weather_daily=weather).steps.empty


def test_a_step_at_the_end_of_the_data_is_found_once_it_has_lasted_the_minimum_weeks():
    weather = weather_days("2024-01-01", 400).assign(region="plant")
    found = analyse_load(level_with_step(400, 400 - 28, 1000, 250), weather_daily=weather).steps
    assert len(found) == 1 and found.iloc[0]["date"] == pd.Timestamp("2024-01-01") + pd.Timedelta(days=372)
    assert found.iloc[0]["weeks_after"] >= R.RegionalParams().step_min_weeks
    too_recent = analyse_load(level_with_step(400, 400 - 10, 1000, 250), weather_daily=weather).steps
    assert too_recent.empty


def test_weather_swings_are_not_steps():
    weather = weather_days("2023-01-01", 2 * 365, seed=4)
    load = load_from_weather(weather, "north", 2400, 120, 150)
    a = analyse_load(load, weather_daily=weather.assign(region="north"))
    assert a.steps.empty
    # the same load without its temperatures swings by season: that is what the weather removes
    monthly_mean = a.monthly[a.monthly["region"] == "north"]["mean_kw"]
    assert monthly_mean.max() / monthly_mean.min() > 1.3


def test_line_loss_sales_and_theft_by_region():
    load = two_regions()
    customers = pd.DataFrame({"customer_id": ["n1", "n2", "s1"], "region": ["north", "north", "south"],
                              "customer_class": ["residential", "commercial", "residential"],
                              "industry": ["household", "retail", None]})
    days = pd.date_range("2025-01-01", periods=31, freq="D")
    north_energy = day_profile(50, 100).sum() * 31
    south_energy = day_profile(60, 20).sum() * 31
    readings = pd.concat([
        pd.DataFrame({"customer_id": "n1", "ts": days, "kwh": north_energy * 0.5 / 31}),
        pd.DataFrame({"customer_id": "n2", "ts": days, "kwh": north_energy * 0.4 / 31}),  # north: 10% lost
        pd.DataFrame({"customer_id": "s1", "ts": days, "kwh": south_energy * 0.95 / 31}),  # south: 5% lost
    ], ignore_index=True)
    readings["customer_id"] = readings["customer_id"].astype("category")
    scores = pd.DataFrame({"customer_id": ["n1", "n2", "s1"], "task": "theft", "score": [0.9, 0.7, 0.1],
                           "rank": [1, 2, 3]})
    a = R.analyse(load, R.RegionalParams(theft_top_n=2), customers=customers, readings_daily=readings,
                  scores=scores)
    m = a.monthly
    assert row(m, "north", "2025-01")["line_loss"] == pytest.approx(0.10)
    assert row(m, "south", "2025-01")["line_loss"] == pytest.approx(0.05)
    assert row(m, "total", "2025-01")["line_loss"] == pytest.approx(
        (0.10 * north_energy + 0.05 * south_energy) / (north_energy + south_energy))
    assert row(m, "north", "2025-01")["billed_source"] == "readings_daily"
    regions = a.regions.set_index("region")
    assert regions.loc["north", "line_loss_12m"] == pytest.approx(0.10)
    assert regions.loc["north", "theft_mean_score"] == pytest.approx(0.8)
    assert regions.loc["north", "theft_top_accounts"] == 2 and regions.loc["south", "theft_top_accounts"] == 0
    sales = a.sales.set_index(["region", "customer_class", "industry"])
    assert sales.loc[("north", "commercial", "retail"), "kwh"] == pytest.approx(north_energy * 0.4)
    assert sales.loc[("south", "residential", "unknown"), "customers"] == 1
    # the same from the bills when there are no daily readings
    bills = pd.DataFrame({"customer_id": ["n1", "n2", "s1"], "period": "2025-01",
                          "kwh": [north_energy * 0.5, north_energy * 0.4, south_energy * 0.95]})
    b = analyse_load(load, customers=customers, bills=bills).monthly
    assert row(b, "north", "2025-01")["line_loss"] == pytest.approx(0.10)
    assert row(b, "north", "2025-01")["billed_source"] == "bills"
    # a load export alone: no line loss, no sales, everything else
    alone = analyse_load(load)
    assert alone.monthly["line_loss"].isna().all() and alone.sales.empty
    assert alone.regions["theft_mean_score"].isna().all()


def test_temperature_comes_from_the_regions_stations_else_its_series_else_all_stations():
    ts = pd.date_range("2025-01-01", periods=48, freq="h")
    stations = pd.concat([pd.DataFrame({"station": s, "ts": ts, "temperature_c": t})
                          for s, t in (("s1", 0.0), ("s2", 10.0), ("s3", 20.0))], ignore_index=True)
    mapping = pd.DataFrame({"station": ["s1", "s2"], "region": ["a", "a"]})
    daily = pd.DataFrame({"date": pd.date_range("2025-01-01", periods=2, freq="D"), "region": "b",
                          "temperature_mean": -5.0})
    temps, source = R.region_temperature(["a", "b", "c"], daily, stations, mapping)
    by = temps.groupby("region")["temperature_c"].mean()
    assert by["a"] == pytest.approx(5.0) and by["b"] == pytest.approx(-5.0) and by["c"] == pytest.approx(10.0)
    assert source == {"a": "stations mapped to the region", "b": "weather_daily of the region",
                      "c": "mean of all stations"}
    _, none = R.region_temperature(["a"])
    assert none == {"a": "none"}
    # without any temperature, the weather columns are empty and nothing else breaks
    m = R.analyse(two_regions()).monthly
    assert m["kwh_per_hdd"].isna().all() and m["heating_degree_days"].isna().all()


def test_params_are_checked():
    with pytest.raises(InvalidInput, match="cooling_base_c"):
        R.RegionalParams(heating_base_c=20, cooling_base_c=15)
    with pytest.raises(InvalidInput, match="step_min_share"):
        R.RegionalParams(step_min_share=0)
    with pytest.raises(InvalidInput, match="empty"):
        R.analyse(two_regions().iloc[:0])


def test_customer_months_from_batches_of_readings_are_those_of_the_whole_table():
    """The regional stage reads the daily readings in batches (bounded memory, issue 18): a
    customer-month split over two batches is summed, and the result equals the whole table's."""
    rng = np.random.default_rng(3)
    days = pd.date_range("2025-01-01", "2025-04-30", freq="D")
    ids = np.repeat(np.array(["c1", "c2", "c3"]), len(days))
    readings = pd.DataFrame({"customer_id": pd.Categorical(ids), "ts": np.tile(days.values, 3),
                             "kwh": rng.gamma(2.0, 5.0, len(ids))})
    customers = pd.DataFrame({"customer_id": ["c1", "c2", "c3"], "region": ["north"] * 3})
    whole, source = R.customer_month_kwh(customers, readings, None)
    cuts = [0, 50, 51, 200, len(readings)]  # c1's February and c2's March split between batches
    batches = (readings.iloc[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True))
    batched, batched_source = R.customer_month_kwh(customers, batches, None)
    assert source == batched_source == "readings_daily" and len(whole) == 12
    whole = whole.assign(customer_id=whole["customer_id"].astype(str)).sort_values(["customer_id", "month"])
    pd.testing.assert_frame_equal(whole.reset_index(drop=True), batched.reset_index(drop=True), check_exact=False)
    empty, none_source = R.customer_month_kwh(customers, iter([]), None)
    assert none_source == "none" and empty.empty
