"""Hourly and monthly forecasts on a small made-up utility: only load before the origin is read,
the regions add up to the total, intervals hold the point, bad requests are one-line errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from powerlens.errors import InvalidInput
from powerlens.forecast.hourly import HOURLY_COLUMNS, HourlySettings, hourly_forecast
from powerlens.forecast.monthly import (
    MONTHLY_COLUMNS,
    MonthlySettings,
    error_spread,
    monthly_actuals,
    monthly_forecast,
    probe_errors,
    probe_origins,
    student_t_quantile,
)
from powerlens.forecast.panel import TOTAL, build_panel
from powerlens.forecast.reconcile import METHODS, projection, reconcile

FAST = HourlySettings(calibration_weeks=8, history_years=1.5, lightgbm={"n_estimators": 60, "learning_rate": 0.15})
ORIGIN = pd.Timestamp("2024-05-06")


@pytest.fixture(scope="module")
def panel(load_tables):
    return build_panel(load_tables, select_before=ORIGIN)


def _tripled_after(tables: dict, origin: pd.Timestamp) -> dict:
    out = dict(tables)
    load = tables["region_load"].copy()
    load.loc[load["ts"] >= origin, "load_kw"] *= 3
    out["region_load"] = load
    return out


@pytest.mark.parametrize("family", ["seasonal_naive", "vanilla",
                                    pytest.param("lightgbm_global", marks=pytest.mark.slow)])
def test_load_after_the_origin_is_never_read(load_tables, family):
    settings = HourlySettings(**{**FAST.__dict__, "family": family})
    origins = [ORIGIN, ORIGIN + pd.Timedelta(weeks=4)]
    plain = hourly_forecast(build_panel(load_tables, select_before=ORIGIN), origins, 168, "given", settings)
    # tripling everything from the first origin on changes nothing of the first origin's forecast,
    # and tripling from the second changes nothing of either
    tripled = hourly_forecast(build_panel(_tripled_after(load_tables, origins[1]), select_before=ORIGIN),
                              origins, 168, "given", settings)
    pd.testing.assert_frame_equal(plain, tripled)
    first_only = hourly_forecast(build_panel(_tripled_after(load_tables, origins[0]), select_before=ORIGIN),
                                 origins[:1], 168, "given", settings)
    pd.testing.assert_frame_equal(plain[plain["origin"] == origins[0]].reset_index(drop=True), first_only)
    # ... while the load before the origin does change it (the test can fail)
    earlier = hourly_forecast(build_panel(_tripled_after(load_tables, origins[0] - pd.Timedelta(weeks=2)),
                                          select_before=ORIGIN), origins[:1], 168, "given", settings)
    assert not np.allclose(earlier["forecast"], first_only["forecast"])


@pytest.mark.parametrize("weather", ["given", pytest.param("scenario", marks=pytest.mark.slow)])
def test_hourly_forecast_is_coherent_with_intervals(panel, weather):
    out = hourly_forecast(panel, [ORIGIN, ORIGIN + pd.Timedelta(days=3)], 48, weather, FAST)
    assert list(out.columns) == HOURLY_COLUMNS
    assert set(out["region"]) == {"east", "north", "west", TOTAL}
    assert len(out) == 2 * 48 * 4 and not out.duplicated(["region", "ts", "origin"]).any()
    wide = out.pivot_table(index=["origin", "ts"], columns="region", values="forecast")
    np.testing.assert_allclose(wide[["east", "north", "west"]].sum(axis=1), wide[TOTAL], rtol=1e-12)
    assert (out["lo_80"] <= out["forecast"]).all() and (out["forecast"] <= out["hi_80"]).all()
    assert (out["hi_80"] > out["lo_80"]).mean() > 0.99
    assert ((out["ts"] >= out["origin"]) & (out["ts"] < out["origin"] + pd.Timedelta(hours=48))).all()
    # and it is a forecast: within 10% of what happened in the mean
    actual = panel.load.stack().rename("actual")
    actual.index = actual.index.set_names(["ts", "region"])
    scored = out[out["region"] != TOTAL].join(actual, on=["ts", "region"])
    assert ((scored["forecast"] - scored["actual"]).abs() / scored["actual"]).mean() < 0.10


@pytest.mark.slow
def test_scenario_weather_widens_the_interval(panel):
    given = hourly_forecast(panel, [ORIGIN], 168, "given", FAST)
    scenario = hourly_forecast(panel, [ORIGIN], 168, "scenario", FAST)
    width = lambda f: (f["hi_80"] - f["lo_80"]).mean()  # noqa: E731
    assert width(scenario) > width(given)


@pytest.mark.slow
def test_a_new_connection_carries_into_the_forecast(load_tables):
    # north gains 400 kW 10 weeks before the data's end; a forecast 2 weeks after it carries it
    # (at least half of it: the temperature regression inside the model still anchors to the old level)
    end = load_tables["region_load"]["ts"].max()
    origin = (end - pd.Timedelta(weeks=8)).normalize()
    without = dict(load_tables)
    load = load_tables["region_load"].copy()
    load.loc[(load["region"] == "north") & (load["ts"] >= end - pd.Timedelta(weeks=10)), "load_kw"] -= 400
    without["region_load"] = load

    def north(tables):
        out = hourly_forecast(build_panel(tables, select_before=origin), [origin], 168, "given", FAST)
        return out.loc[out["region"] == "north", "forecast"].mean()

    assert 180 < north(load_tables) - north(without) < 550


@pytest.mark.parametrize("method", METHODS)
def test_reconciliation_adds_up_and_keeps_coherent_forecasts(method):
    rng = np.random.default_rng(0)
    regions = rng.uniform(50, 100, size=(30, 3))
    coherent = np.column_stack([regions, regions.sum(axis=1)])
    errors = rng.normal(0, 5, size=(200, 4))
    P = projection(method, 3, errors)
    np.testing.assert_allclose(reconcile(coherent, P), coherent, rtol=1e-9)  # a coherent forecast stays
    noisy = coherent + rng.normal(0, 10, size=coherent.shape)
    out = reconcile(noisy, P)
    np.testing.assert_allclose(out[:, :3].sum(axis=1), out[:, 3], rtol=1e-12)
    if method == "bottom_up":
        np.testing.assert_allclose(out[:, :3], np.clip(noisy[:, :3], 0, None))
    else:  # the total's own forecast moves the regions
        assert not np.allclose(out[:, :3], noisy[:, :3])


@pytest.mark.parametrize("origin", ["2024-03-01", "2024-07-01"])  # the second after north's new connection
def test_monthly_forecast_adds_up_and_brackets(load_tables, origin):
    origin = pd.Timestamp(origin)
    out = monthly_forecast(build_panel(load_tables, select_before=origin), origin, 6, MonthlySettings(history_years=2.0))
    assert list(out.columns) == MONTHLY_COLUMNS
    assert sorted(out["month"].unique()) == list(pd.period_range(origin, periods=6, freq="M").strftime("%Y-%m"))
    wide = out.pivot(index="month", columns="region", values="energy")
    np.testing.assert_allclose(wide[["east", "north", "west"]].sum(axis=1), wide[TOTAL], rtol=1e-12)
    assert (out["energy_lo_80"] <= out["energy_hi_80"]).all() and (out["peak_lo_80"] <= out["peak_hi_80"]).all()
    # the point lies inside its interval, in the region with a new connection too (its past months
    # at today's level would otherwise pull the interval below the outlook)
    assert (out["energy_lo_80"] <= out["energy"]).all() and (out["energy"] <= out["energy_hi_80"]).all()
    peaks = out.pivot(index="month", columns="region", values="peak")
    assert (peaks[TOTAL] <= peaks[["east", "north", "west"]].sum(axis=1) + 1e-6).all()  # coincident, not summed


@pytest.fixture(scope="module")
def three_years():
    """Three years of the made-up utility (its new connection in the last ten weeks, 2025-11)."""
    from forecast.conftest import make_tables

    return make_tables(weeks=160)


def test_monthly_intervals_cover_the_months_that_followed(three_years):
    # measured: 86% of the energy and 79% of the peak months inside; the in-sample errors of
    # before held 68% and 46% (and about half at 2025-01-01)
    origin = pd.Timestamp("2025-06-01")
    panel = build_panel(three_years, select_before=origin)
    out = monthly_forecast(panel, origin, 12, MonthlySettings())
    assert len(probe_origins(panel, origin, MonthlySettings())) == 4  # 2024-06 .. 2025-03, every 3 months
    wide = out.pivot(index="month", columns="region", values="energy")
    np.testing.assert_allclose(wide[["east", "north", "west"]].sum(axis=1), wide[TOTAL], rtol=1e-12)
    for what in ("energy", "peak"):
        assert (out[f"{what}_lo_80"] <= out[what]).all() and (out[what] <= out[f"{what}_hi_80"]).all()
    m = out.merge(monthly_actuals(panel), on=["month", "region"], suffixes=("", "_actual"))
    m = m[m["month"] < "2026-01"]  # complete months only
    assert len(m) == 7 * 4
    for what in ("energy", "peak"):
        covered = m[f"{what}_actual"].between(m[f"{what}_lo_80"], m[f"{what}_hi_80"]).mean()
        width = ((m[f"{what}_hi_80"] - m[f"{what}_lo_80"]) / m[what]).median()
        assert 0.70 <= covered <= 0.97 and width < 0.30, (what, covered, width)


def test_monthly_intervals_read_only_load_before_the_origin(three_years):
    origin = pd.Timestamp("2025-03-01")
    plain = monthly_forecast(build_panel(three_years, select_before=origin), origin, 3, MonthlySettings())
    tripled = _tripled_after(three_years, origin)
    pd.testing.assert_frame_equal(plain, monthly_forecast(build_panel(tripled, select_before=origin), origin, 3,
                                                          MonthlySettings()))
    # the interval's errors come from probe origins before it, scored on months before it
    errors = probe_errors(build_panel(three_years, select_before=origin), origin, MonthlySettings())
    assert errors["probe"].max() < origin and set(errors["series"]) == {"east", "north", "west", TOTAL}
    ends = errors["probe"].dt.to_period("M") + errors["horizon"] - 1
    assert (ends < origin.to_period("M")).all() and errors["energy"].notna().sum() > 30


def test_the_monthly_spread_grows_with_the_horizon_and_the_series_own_error():
    probes = pd.to_datetime(["2024-01-01", "2024-04-01", "2024-07-01"])
    rows = [{"probe": p, "horizon": h, "series": s, "energy": k * 0.01 * np.sqrt(h) * (1 if (h + i) % 2 else -1),
             "peak": np.nan}
            for i, p in enumerate(probes) for h in range(1, 7) for s, k in (("a", 1.0), ("b", 3.0))]
    errors = pd.DataFrame(rows)
    spread = error_spread(errors, "energy", ["a", "b", "c"], 12, shrink=4.0)
    assert spread.shape == (3, 12)
    assert (np.diff(spread, axis=1) > 0).all()  # grows, and reaches the horizons no probe reached
    assert spread[1, 0] > 1.3 * spread[0, 0]  # b's errors are three times a's, shrunk towards the pool
    unshrunk = error_spread(errors, "energy", ["a", "b"], 12, shrink=0.0)
    assert unshrunk[1, 0] == pytest.approx(3 * unshrunk[0, 0])
    assert spread[0, 0] < spread[2, 0] < spread[1, 0]  # c, without errors, takes the pooled spread
    assert error_spread(errors, "peak", ["a"], 12, shrink=4.0) is None
    # Student's t: the interval of a spread seen from few probe origins is wider
    for df, q90 in ((1, 3.0777), (2, 1.8856), (3, 1.6377), (5, 1.4759), (30, 1.3104)):
        assert student_t_quantile(0.9, df) == pytest.approx(q90, abs=2e-3)


def test_the_monthly_scenarios_are_the_regressions_cubic_in_temperature(load_tables):
    from powerlens.forecast.hourly import scenario_temperatures
    from powerlens.forecast.monthly import _fit, _temperature_cubic

    origin = pd.Timestamp("2024-03-01")
    panel = build_panel(load_tables, select_before=origin)
    series = panel.load[panel.load.index < origin]
    model, _ = _fit(panel, series, origin, MonthlySettings())
    hours = pd.date_range(origin, periods=24 * 60, freq="h")
    path = scenario_temperatures(panel.temperature, origin, hours, (2,), 1)[0]
    cubic = _temperature_cubic(model, panel.regions, hours)
    u = (path.reindex(hours)[panel.regions].to_numpy() - 15) / 10
    expected = model.predict(series, path, origin, hours)[panel.regions].to_numpy()
    np.testing.assert_allclose(cubic[0] + u * (cubic[1] + u * (cubic[2] + u * cubic[3])), expected, rtol=1e-9)
    assert np.ptp(u) > 1.5  # winter and spring temperatures: the cubic's terms all count


@pytest.mark.parametrize(("origins", "horizon", "message"), [
    (["2026-01-05"], 168, "beyond the data"),
    (["2023-01-09"], 168, "too little history"),
    (["2024-05-06"], 400, "horizon-hours must be 1..336"),
])
def test_requests_the_data_cannot_answer_are_one_line_errors(panel, origins, horizon, message):
    with pytest.raises(InvalidInput, match=message) as info:
        hourly_forecast(panel, [pd.Timestamp(o) for o in origins], horizon, "given", FAST)
    assert "\n" not in str(info.value)


def test_a_region_without_history_is_a_one_line_error(load_tables):
    tables = dict(load_tables)
    late = pd.DataFrame({"region": "south", "ts": pd.date_range("2024-04-20", "2024-05-10", freq="h"),
                         "load_kw": 500.0, "outage": False})
    tables["region_load"] = pd.concat([tables["region_load"], late], ignore_index=True)
    tables["weather_daily"] = pd.concat([tables["weather_daily"], tables["weather_daily"].query("region == 'east'")
                                         .assign(region="south")], ignore_index=True)
    with pytest.raises(InvalidInput, match="region south has no load history before 2024-05-06"):
        hourly_forecast(build_panel(tables, select_before=ORIGIN), [ORIGIN], 24, "given", FAST)


def test_monthly_origin_must_be_a_first_of_month(panel):
    with pytest.raises(InvalidInput, match="first of a month"):
        monthly_forecast(panel, pd.Timestamp("2024-05-06"), 3, MonthlySettings())


@pytest.mark.slow
def test_given_weather_must_cover_the_horizon(load_tables):
    end = load_tables["region_load"]["ts"].max() + pd.Timedelta(hours=1)
    panel = build_panel(load_tables, select_before=end)
    with pytest.raises(InvalidInput, match="--weather scenario"):
        hourly_forecast(panel, [end], 24, "given", FAST)
    out = hourly_forecast(panel, [end], 24, "scenario", FAST)  # the week after the data: ex-ante
    assert out["ts"].min() == end and out["forecast"].notna().all()



@pytest.mark.slow
def test_statsforecast_mstl_is_a_family_that_reads_only_load_before_the_origin(load_tables):
    from powerlens.forecast.backtest import backtest_hourly

    settings = HourlySettings(**{**FAST.__dict__, "calibration_weeks": 2})
    origins = [ORIGIN, ORIGIN + pd.Timedelta(weeks=2)]
    panel = build_panel(load_tables, select_before=ORIGIN)
    results, _ = backtest_hourly(panel, origins, 48, "given", settings, ("seasonal_naive", "statsforecast_mstl"),
                                 reconciliations=("wls",))
    mstl, naive = results["statsforecast_mstl"][0], results["seasonal_naive"][0]
    assert 0 < mstl["mape_total"] < 0.15 and 0 < naive["mape_total"] < 0.15, (mstl, naive)
    tripled = build_panel(_tripled_after(load_tables, origins[0]), select_before=ORIGIN)
    mstl_settings = HourlySettings(**{**settings.__dict__, "family": "statsforecast_mstl"})
    a = hourly_forecast(panel, origins[:1], 48, "given", mstl_settings)
    b = hourly_forecast(tripled, origins[:1], 48, "given", mstl_settings)
    pd.testing.assert_frame_equal(a, b)
