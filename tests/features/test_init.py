"""The whole feature table (features.build): point in time, cut-offs, the generator's signals."""

import numpy as np
import pandas as pd

from powerlens import features as F


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
        # a price change from the cut-off on: the prices then are not known at the cut-off
        tariffs=pd.concat([small_data.tariffs, small_data.tariffs.assign(
            valid_from=as_of, price_per_kwh=small_data.tariffs["price_per_kwh"] * 3)], ignore_index=True),
    )
    assert before["heating_sensitivity"].notna().any() and before["bill_share_peak"].notna().any()
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


def test_synthetic_heating_sensitivity_follows_the_generator(small_data, small_truth):
    feats = F.build(small_data, "2026-11-01").merge(pd.read_parquet(small_truth), on="customer_id")
    assert feats["heating_sensitivity"].notna().mean() > 0.9
    by_shape = feats.groupby("load_shape_class")["heating_sensitivity"].median()
    # homes heat with electricity; irrigation pumps run in the warm season, so cold days use less
    assert by_shape["evening_peak"] > 1.5 and by_shape["double_peak"] > 1.5
    assert by_shape["seasonal_agri"] < 0
