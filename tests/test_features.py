import numpy as np
import pandas as pd
import pytest

from powerlens import features as F
from powerlens.features.billing import billing_features
from powerlens.features.definitions import FEATURES, describe
from powerlens.features.load_profile import (
    daily_extreme_features,
    daily_extremes,
    daily_features,
    to_matrix,
)
from powerlens.features.service import service_features


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


def test_billing_credit_features_as_of_the_cutoff():
    ids = pd.Index(["c1", "c2"])
    bills = pd.DataFrame({
        "customer_id": ["c1", "c1", "c2"], "bill_id": ["b1", "b2", "b3"], "amount": [100.0, 100.0, 50.0],
        "bill_date": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-01-01"]),
        "due_date": pd.to_datetime(["2026-01-21", "2026-02-21", "2026-01-21"]),
    })
    payments = pd.DataFrame({
        "customer_id": ["c1", "c2", "c1"], "bill_id": ["b1", "b3", "b2"], "amount": [100.0, 50.0, 100.0],
        "paid_on": pd.to_datetime(["2026-01-20", "2026-02-25", "2026-04-15"]), "channel": ["counter", "mobile_app", "counter"],
    })
    f = billing_features(bills, payments, ids, pd.Timestamp("2026-04-01"), 365)
    # c1: b1 on time, b2 unpaid at the cut-off (paid after it) -> 39 days past due
    assert f.loc["c1", "on_time_rate"] == pytest.approx(0.5)
    assert f.loc["c1", "arrears_count"] == 1 and f.loc["c1", "arrears_amount"] == pytest.approx(100.0)
    assert f.loc["c1", "arrears_31_60d"] == pytest.approx(100.0)
    assert f.loc["c1", "days_past_due_max"] == 39
    assert f.loc["c1", "share_counter"] == pytest.approx(1.0)
    # c2: paid 35 days late
    assert f.loc["c2", "on_time_rate"] == 0 and f.loc["c2", "days_past_due_max"] == 35
    assert f.loc["c2", "arrears_amount"] == 0 and f.loc["c2", "bills_over_30dpd"] == 1
    assert f.loc["c1", "revenue_12m"] == pytest.approx(200.0)


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


def test_bill_by_bill_payment_history_as_of_the_cutoff():
    """What was paid toward each due bill, before the cut-off only; the billing system's status
    code of the last two due bills; counts unknown (not zero) for a customer with nothing due."""
    ids = pd.Index(["c1", "c2", "c3"])
    bills = pd.DataFrame({
        "customer_id": ["c1", "c1", "c1", "c2", "c3"], "bill_id": ["b1", "b2", "b3", "b4", "b5"],
        "amount": [80.0, 120.0, 90.0, 0.0, 40.0],
        "bill_date": pd.to_datetime(["2026-01-31", "2026-02-28", "2026-03-31", "2026-02-28", "2026-03-31"]),
        "due_date": pd.to_datetime(["2026-02-20", "2026-03-20", "2026-04-20", "2026-03-20", "2026-04-20"]),
    })
    payments = pd.DataFrame({
        "customer_id": ["c1", "c1", "c1"], "bill_id": ["b1", "b2", "b2"], "amount": [80.0, 30.0, 90.0],
        "paid_on": pd.to_datetime(["2026-02-18", "2026-03-25", "2026-04-02"]),  # the last is after the cut-off
        "channel": ["counter"] * 3, "repayment_status": [-1, 1, 0],
    })
    f = billing_features(bills, payments, ids, pd.Timestamp("2026-04-01"), 365)
    # c1: b3 is not due yet; b2 (due 20 March) had 30 of 120 paid by the cut-off
    assert f.loc["c1", "bill_amount_prev"] == pytest.approx(120.0) and f.loc["c1", "bill_amount_max"] == 120.0
    assert f.loc["c1", "paid_last_due"] == pytest.approx(30.0)
    assert f.loc["c1", "paid_share_last_due"] == pytest.approx(0.25)
    assert f.loc["c1", "paid_share_min"] == pytest.approx(0.25) and f.loc["c1", "paid_share_mean"] == pytest.approx(0.625)
    assert f.loc["c1", "paid_12m"] == pytest.approx(110.0)
    assert f.loc["c1", "bills_paid_full_12m"] == 1 and f.loc["c1", "bills_unpaid_12m"] == 0
    assert f.loc["c1", "repayment_status_last"] == 1 and f.loc["c1", "repayment_status_prev"] == -1
    # c2: a zero bill is due (nothing to pay, no share); c3: nothing due yet, so the counts are unknown
    assert f.loc["c2", "bills_zero_12m"] == 1 and np.isnan(f.loc["c2", "paid_share_last_due"])
    assert f.loc["c2", "bills_unpaid_12m"] == 0
    assert np.isnan(f.loc["c3", "bills_unpaid_12m"]) and np.isnan(f.loc["c3", "paid_last_due"])
    assert f.loc["c3", "paid_12m"] == 0 and np.isnan(f.loc["c3", "repayment_status_last"])
    # a source without the status code: unknown
    assert billing_features(bills, payments.drop(columns="repayment_status"), ids, pd.Timestamp("2026-04-01"),
                            365)["repayment_status_last"].isna().all()


def test_service_counts_and_recency():
    events = pd.DataFrame({
        "customer_id": ["c1", "c1", "c1", "c2"],
        "ts": pd.to_datetime(["2025-12-01", "2026-03-20", "2026-05-01", "2026-02-01"]),
        "kind": ["complaint", "complaint", "complaint", "inspection"],
        "outcome": ["resolved", "resolved", "resolved", "theft_confirmed"],
    })
    f = service_features(events, pd.Index(["c1", "c2"]), pd.Timestamp("2026-04-01"), 365)
    assert f.loc["c1", "complaints_12m"] == 2 and f.loc["c1", "complaints_90d"] == 1
    assert f.loc["c1", "days_since_complaint"] == 12
    assert f.loc["c2", "theft_confirmed_before"] == 1 and f.loc["c2", "days_since_complaint"] == 366


def test_every_feature_built_is_described(small_data):
    feats = F.build(small_data, "2026-08-01")
    built = [c for c in feats.columns if c not in ("customer_id", "as_of") and not c.startswith("attr_")]
    assert set(built) <= set(FEATURES)
    assert len(built) >= 50
    assert all(describe(c) for c in built)
    assert feats["customer_id"].is_unique
    # the source's own customer attributes come along as typed static features
    assert "attr_interval_metered" in feats and describe("attr_interval_metered").startswith("source attribute")


def test_point_in_time_changing_data_on_or_after_the_cutoff_changes_nothing(small_data):
    as_of = pd.Timestamp("2026-05-01")
    before = F.build(small_data, as_of)
    altered = F.CleanData(
        customers=small_data.customers,
        daily=_scramble_after(small_data.daily, as_of),
        hourly=_scramble_after(small_data.hourly, as_of),
        bills=_shift_after(small_data.bills, "bill_date", as_of, amount=True),
        payments=_shift_after(small_data.payments, "paid_on", as_of, amount=True),
        events=pd.concat([small_data.events, small_data.events.assign(ts=as_of)], ignore_index=True),
        weather=small_data.weather.assign(temperature_mean=small_data.weather["temperature_mean"].where(
            small_data.weather["date"] < as_of, 45.0)),
    )
    assert before["heating_sensitivity"].notna().any()
    after = F.build(altered, as_of)
    pd.testing.assert_frame_equal(before, after)


def _scramble_after(m, as_of):
    values = m.values.copy()
    col = int((as_of - m.start) / m.step)
    values[:, max(col, 0):] = np.random.default_rng(0).random(values[:, max(col, 0):].shape) * 1000
    return F.SeriesMatrix(m.customer_ids, m.start, m.step, values)


def _shift_after(frame, col, as_of, amount=False):
    frame = frame.copy()
    later = frame[col] >= as_of
    if amount:
        frame.loc[later, "amount"] = frame.loc[later, "amount"] * 7
    return frame


def test_cutoffs_leave_a_full_label_horizon():
    training, scoring = F.cutoffs_for(pd.Timestamp("2026-11-01"), 3, 3, 3)
    assert scoring == pd.Timestamp("2026-11-01")
    assert training == [pd.Timestamp("2026-02-01"), pd.Timestamp("2026-05-01"), pd.Timestamp("2026-08-01")]


def test_theft_and_credit_signal_is_recoverable_from_features(small_data, small_truth):
    from sklearn.metrics import roc_auc_score

    feats = F.build(small_data, "2026-08-01").merge(pd.read_parquet(small_truth), on="customer_id")
    in_episode = feats["theft"] & (pd.to_datetime(feats["theft_start"]) < pd.Timestamp("2026-07-01")) & (
        pd.to_datetime(feats["theft_end"]) >= pd.Timestamp("2026-08-01"))
    assert roc_auc_score(in_episode, feats["largest_level_drop"].fillna(0)) > 0.8
    late = feats["credit_class"] != "good"
    assert roc_auc_score(late, -feats["on_time_rate"].fillna(1)) > 0.85


def test_feature_values_read_in_their_units():
    from powerlens.features.definitions import format_value

    assert format_value("on_time_rate", 0.4) == "40%"
    assert format_value("days_since_complaint", 19.0) == "19 days"
    assert format_value("tenure_years", 0.44) == "0.4 years"
    assert format_value("arrears_amount", 1234.4) == "1,234"
    assert format_value("trend_pct_per_year", 35.0) == "+35.0 %/year"
    assert format_value("region", "riverside") == "riverside"
    assert format_value("daily_load_factor", float("nan")) == "missing"
