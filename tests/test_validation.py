"""The validation rules the importers share: DST-repeated hours, mixed intervals, future dates,
orphan bills/payments, labels, plausibility."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from powerlens import validation
from powerlens.schema import Quarantine


def _readings(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["customer_id", "ts", "kwh"])
    df["_line"] = np.arange(2, len(df) + 2)
    return df


def test_among_agrees_with_isin_for_text_ids_and_a_missing_id_is_never_known():
    rng = np.random.default_rng(2)
    known = pd.Index([f"C-{i:05d}" for i in rng.choice(5000, 800, replace=False)], dtype="string")
    ids = pd.Series([f"C-{i:05d}" for i in rng.integers(0, 5000, 3000)] + [None, "", " C-00001"],
                    index=np.arange(3003) * 2 + 1, dtype=object)
    found = validation.among(ids, known)
    assert found.index.equals(ids.index) and found.dtype == bool
    expected = ids.isin(set(known)) & ids.notna()
    assert found.tolist() == expected.tolist() and 100 < found.sum() < 3000
    assert not validation.among(ids, pd.Index([], dtype="string")).any()
    assert validation.among(ids.iloc[:0], known).empty
    as_category = validation.among(ids.astype("category"), known)  # the readings' ids are categories
    assert as_category.index.equals(ids.index) and as_category.tolist() == expected.tolist()
    assert not validation.among(pd.Series([None, None], dtype="category"), known).any()


def test_the_dst_fold_by_day_and_hour_agrees_with_the_calendar_fields():
    # every hour (and some quarter hours) of four years, out of order, with NaT among them
    ts = pd.Series(pd.date_range("2021-01-01", "2024-12-31 23:45", freq="15min")).sample(frac=0.3, random_state=1)
    ts = pd.concat([ts, pd.Series([pd.NaT, pd.Timestamp("1969-10-26 01:30")])]).astype("datetime64[us]")
    fast = validation.dst_fold(ts)
    dt = ts.dt
    fields = (dt.dayofweek.eq(6) & ((dt.month.eq(10) & dt.day.ge(25) & dt.hour.isin([1, 2]))
                                    | (dt.month.eq(11) & dt.day.le(7) & dt.hour.eq(1)))).fillna(False)
    assert fast.index.equals(ts.index) and fast.dtype == bool
    assert fast.to_numpy().tolist() == fields.to_numpy(dtype=bool).tolist()
    assert fast.sum() > 10 and not fast.iloc[-2]  # folds were found; NaT is not one


def test_dst_repeated_hour_and_mixed_interval_are_quarantined():
    hours = pd.date_range("2023-10-29 00:00", periods=6, freq="h").strftime("%Y-%m-%d %H:%M").tolist()
    rows = [("a", h, 1.0) for h in hours]
    rows.append(("a", "2023-10-29 01:00", 1.1))          # the autumn repeat of 01:00 (UK)
    rows.append(("a", "2023-10-29 04:00", 1.2))          # a plain duplicate outside the fold
    rows.append(("a", "2023-10-29 03:15", 0.3))          # a 15-minute reading among hourly ones
    rows += [("b", f"2023-05-0{d} 00:00", 5.0) for d in range(1, 8)]
    rows.append(("b", "2023-05-03 13:00", 2.0))          # a daily series with one 13:00 stamp
    q = Quarantine()
    ok = validation.readings(_readings(rows), q, "r.csv", "readings_hourly", pd.Index(["a", "b"]))
    rep = q.reports["readings_hourly"]
    assert rep.reasons == {"dst_repeated_hour": 1, "duplicate_reading": 1, "mixed_interval": 2}
    assert rep.reconciled and len(ok) == len(rows) - 4
    bad = pd.concat(q.rejected["readings_hourly"])
    assert set(bad.loc[bad["reason"] == "mixed_interval", "source_line"]) == {10, 18}


def test_future_start_orphans_and_payment_on_anothers_bill():
    q = Quarantine()
    future = (pd.Timestamp.now() + pd.Timedelta(days=400)).strftime("%Y-%m-%d")
    cust = pd.DataFrame({"customer_id": ["a", "b"], "customer_class": ["residential"] * 2,
                         "start_date": ["2020-01-01", future], "_line": [2, 3]})
    ok = validation.customers(cust, q, "c.csv")
    assert q.reports["customers"].reasons == {"start_in_future": 1} and len(ok) == 1
    bills = pd.DataFrame({"customer_id": ["a", "zz", "a"], "bill_id": ["b1", "b2", "b3"],
                          "period": ["2021-01"] * 3, "amount": ["1", "2", "3"],
                          "bill_date": ["2021-02-01", "2021-02-01", "2021-02-01"],
                          "due_date": ["2021-02-20", "2021-02-20", "2021-01-20"], "_line": [2, 3, 4]})
    b = validation.bills(bills, q, "b.csv", pd.Index(ok["customer_id"]))
    assert q.reports["bills"].reasons == {"unknown_customer": 1, "due_before_bill_date": 1}
    pays = pd.DataFrame({"customer_id": ["a", "x", "a"], "bill_id": ["b1", "b1", "b2"],
                         "paid_on": ["2021-02-10"] * 3, "amount": ["1", "1", "2"], "_line": [2, 3, 4]})
    validation.payments(pays, q, "p.csv", pd.Index(b["bill_id"]), b.set_index("bill_id")["customer_id"])
    assert q.reports["payments"].reasons == {"payment_customer_mismatch": 1, "payment_without_bill": 1}


def test_labels_validator():
    q = Quarantine()
    df = pd.DataFrame({
        "customer_id": ["a", "a", "b", "zz", "b", "a"],
        "task": ["churn", "churn", "theft", "churn", "", "acorn_group"],
        "as_of": ["2020-01-01", "2020-01-01", "2020-01-01", "2020-01-01", "2020-01-01", "2020-01-01"],
        "label": ["t", "1", "maybe", "0", "1", "ACORN-U"],
        "_line": range(2, 8),
    })
    ok = validation.labels(df, q, "l.csv", pd.Index(["a", "b"]))
    assert q.reports["labels"].reasons == {"duplicate_label": 1, "label_not_allowed": 2, "unknown_customer": 1,
                                           "missing_task": 1}
    assert ok.to_dict("records") == [{"customer_id": "a", "task": "churn", "as_of": pd.Timestamp("2020-01-01"),
                                      "label": "1"}]


# --------------------------------------------------------------------------- plausibility

def _days(customer: str, values) -> list[tuple[str, str, float]]:
    days = pd.date_range("2022-01-01", periods=len(values)).strftime("%Y-%m-%d")
    return [(customer, d, v) for d, v in zip(days, values, strict=True)]


def test_far_above_history_flags_spikes_only_upward_and_only_with_enough_history():
    rules = validation.Plausibility.of(None)
    rng = np.random.default_rng(0)
    base = rng.lognormal(np.log(10), 0.2, 60)
    spiky = base.copy()
    spiky[[10, 40]] = 1500.0                       # ~150x the median, under the class ceiling
    drop = np.r_[base[:30], base[30:] / 20]        # a vacant home: a twentieth
    zeros = np.r_[base[:40], np.zeros(20)]         # a vacation
    tiny = np.r_[base[:50], np.full(10, 0.001)]    # standby only
    short = np.r_[base[:20], [1500.0]]             # too little history to judge
    rows = (_days("spiky", spiky) + _days("drop", drop) + _days("zeros", zeros) + _days("tiny", tiny)
            + _days("short", short))
    df = _readings(rows)
    flagged = validation.far_above_history(df["customer_id"], df["kwh"], pd.Series(True, index=df.index), rules)
    assert df.loc[flagged, "customer_id"].tolist() == ["spiky", "spiky"]
    assert df.loc[flagged, "kwh"].tolist() == [1500.0, 1500.0]
    # a stricter threshold bites on a smaller spike
    strict = dataclasses.replace(rules, max_robust_z=3.0)
    flagged = validation.far_above_history(df["customer_id"], df["kwh"].where(df["kwh"] < 1000, 40.0),
                                           pd.Series(True, index=df.index), strict)
    assert set(df.loc[flagged, "customer_id"]) == {"spiky"}


def test_capacity_then_class_ceiling_and_readings_quarantine_kwh_implausible():
    rules = validation.Plausibility.of({"capacity_margin": 1.5})
    customers = pd.DataFrame({"customer_id": ["cap", "res", "odd"], "capacity_kva": [10.0, np.nan, np.nan],
                              "customer_class": ["commercial", "residential", "unknown_class"]})
    ids = pd.Series(["cap", "res", "odd", "zz"])
    ceiling = validation.max_kwh(ids, 24.0, customers, rules)
    assert ceiling.tolist() == [10 * 24 * 1.5, 50 * 24 * 1.5, rules.max_abs_value, rules.max_abs_value]
    rows = [("cap", "2022-01-01", 359.0), ("cap", "2022-01-02", 361.0), ("res", "2022-01-01", 1799.0),
            ("res", "2022-01-02", 1e12), ("odd", "2022-01-01", 1e16), ("odd", "2022-01-02", 1e14)]
    q = Quarantine()
    ok = validation.readings(_readings(rows), q, "r.csv", "readings_daily", pd.Index(["cap", "res", "odd"]),
                             customers=customers, rules=rules)
    assert q.reports["readings_daily"].reasons == {"kwh_implausible": 3}
    assert sorted(ok["kwh"].astype(float).tolist()) == pytest.approx([359.0, 1799.0, 1e14], rel=1e-6)
    bad = pd.concat(q.rejected["readings_daily"])
    assert sorted(bad["source_line"]) == [3, 5, 6]


def test_inconsistent_aggregate_sum_mean_count_min_max():
    rules = validation.Plausibility.of(None)
    total = pd.Series([48.0, 48.0, 48.0, 48.0, 48.0, np.nan])
    mean = pd.Series([1.0, 1.2, 1.0, 1.0, 1.0, 1.0])
    minimum = pd.Series([0.5, 0.5, 0.5, 2.0, 0.5, 0.5])
    maximum = pd.Series([2.0, 2.0, 0.9, 3.0, 0.4, 2.0])
    count = pd.Series([48, 48, 48, 48, 48, 48])
    bad = validation.inconsistent_aggregate(total, mean, minimum, maximum, count, rules)
    assert bad.tolist() == [False, True, True, True, True, False]


def test_bills_and_payments_with_absurd_amounts_are_quarantined():
    q = Quarantine()
    bills = pd.DataFrame({"customer_id": ["a"] * 3, "bill_id": ["b1", "b2", "b3"], "period": ["2021-01"] * 3,
                          "amount": ["10", "9" * 40, "12"], "kwh": ["100", "5", "1e9"],
                          "due_date": ["2021-02-20"] * 3, "_line": [2, 3, 4]})
    customers = pd.DataFrame({"customer_id": ["a"], "capacity_kva": [8.0], "customer_class": ["residential"]})
    b = validation.bills(bills, q, "b.csv", pd.Index(["a"]), customers=customers)
    assert q.reports["bills"].reasons == {"amount_implausible": 1, "kwh_implausible": 1}
    assert b["bill_id"].tolist() == ["b1"]
    pays = pd.DataFrame({"customer_id": ["a", "a"], "bill_id": ["b1", "b1"], "paid_on": ["2021-02-10"] * 2,
                         "amount": ["10", "2e9"], "_line": [2, 3]})
    validation.payments(pays, q, "p.csv", pd.Index(b["bill_id"]))
    assert q.reports["payments"].reasons == {"amount_implausible": 1}


def _messy_readings(n_customers: int = 40, days: int = 60) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hourly readings of many customers, interleaved as a meter export writes them, with every
    kind of bad row spread over the customers: duplicates, autumn repeats, off-grid stamps,
    spikes, negatives, unknown meters, unparseable values."""
    rng = np.random.default_rng(7)
    hours = pd.date_range("2023-10-01", periods=24 * days, freq="h")
    ids = [f"c{i:03d}" for i in range(n_customers)]
    frame = pd.DataFrame({"customer_id": np.repeat(ids, len(hours)), "ts": np.tile(hours, n_customers),
                          "kwh": rng.lognormal(0, 0.3, n_customers * len(hours)).round(3)})
    frame = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)  # the file's order: not by customer
    bad = frame.sample(200, random_state=2)
    extras = pd.concat([
        bad.iloc[:40],                                                               # duplicates
        bad.iloc[40:60].assign(ts=pd.Timestamp("2023-10-29 01:00")),                 # autumn repeats
        bad.iloc[60:80].assign(ts=lambda d: d["ts"] + pd.Timedelta(minutes=15)),     # off the grid
        bad.iloc[80:100].assign(kwh=-1.0),
        bad.iloc[100:120].assign(kwh=500.0),                                         # spikes
        bad.iloc[120:140].assign(customer_id="nobody"),
    ])
    frame = pd.concat([frame, extras], ignore_index=True).sample(frac=1.0, random_state=3, ignore_index=True)
    frame["ts"] = frame["ts"].dt.strftime("%Y-%m-%d %H:%M")
    frame["kwh"] = frame["kwh"].astype(str)
    frame.loc[frame.sample(10, random_state=4).index, "kwh"] = "n/a"
    frame["_line"] = np.arange(2, len(frame) + 2)
    customers = pd.DataFrame({"customer_id": ids, "customer_class": "residential", "capacity_kva": 10.0})
    return frame, customers


@pytest.mark.parametrize("as_categories", [False, True])
def test_readings_validated_in_blocks_of_customers_equal_readings_validated_at_once(monkeypatch, tmp_path,
                                                                                      as_categories):
    frame, customers = _messy_readings()
    if as_categories:  # as the utility export links meters: categories in no particular order
        frame["customer_id"] = pd.Categorical(frame["customer_id"], categories=frame["customer_id"].unique())
    results = {}
    for rows_per_block in (10**9, 5_000):
        monkeypatch.setattr(validation, "READINGS_BLOCK_ROWS", rows_per_block)
        q = Quarantine()
        ok = validation.readings(frame, q, "r.csv", "readings_hourly", pd.Index(customers["customer_id"]),
                                 customers=customers)
        q.write(tmp_path / str(rows_per_block))
        results[rows_per_block] = ok, q.reports["readings_hourly"], pd.read_parquet(
            tmp_path / str(rows_per_block) / "quarantine" / "readings_hourly.parquet")
    assert len(validation.customer_blocks(frame["customer_id"], 5_000)) > 10
    (ok_once, report_once, rejected_once), (ok_blocks, report_blocks, rejected_blocks) = results.values()
    assert set(report_once.reasons) >= {"duplicate_reading", "dst_repeated_hour", "mixed_interval", "kwh_negative",
                                        "kwh_implausible", "unknown_customer", "kwh_not_numeric"}
    pd.testing.assert_frame_equal(ok_blocks, ok_once)
    assert ok_once["customer_id"].cat.categories.is_monotonic_increasing
    assert ok_once.set_index(["customer_id", "ts"]).index.is_monotonic_increasing
    assert report_blocks.as_dict() == report_once.as_dict() and report_blocks.examples == report_once.examples
    assert report_once.reconciled and report_once.rows_in == len(frame)
    pd.testing.assert_frame_equal(rejected_blocks, rejected_once)
    assert rejected_once["source_line"].is_monotonic_increasing  # in the file's order


def test_daily_totals_are_compared_with_their_complete_days_of_intervals():
    """Integer customer-day keys (issue 18) against the rule spelled out: a daily row is
    inconsistent when its day has all 24 accepted hours and their sum differs; incomplete days,
    days without intervals, stamps that are not a midnight and missing days are not judged."""
    rng = np.random.default_rng(11)
    ids = [f"c{i}" for i in range(30)]
    days = pd.date_range("2026-03-01", periods=20, freq="D")
    hours = pd.DataFrame([(c, d + pd.Timedelta(hours=h)) for c in ids for d in days for h in range(24)],
                         columns=["customer_id", "ts"])
    hours["kwh"] = rng.gamma(2.0, 0.3, len(hours)).round(3)
    hours = hours.drop(index=rng.choice(len(hours), 40, replace=False)).sample(frac=1.0, random_state=1)
    hours["customer_id"] = hours["customer_id"].astype("category")
    sums = hours.assign(day=hours["ts"].dt.floor("D")).groupby(["customer_id", "day"], observed=True)["kwh"]
    full = sums.agg(["sum", "size"])
    daily = full.reset_index().rename(columns={"day": "ts", "sum": "kwh"})[["customer_id", "ts", "kwh"]]
    daily["customer_id"] = daily["customer_id"].astype(str)
    off = rng.choice(len(daily), 60, replace=False)
    daily.loc[off, "kwh"] = daily.loc[off, "kwh"] * 1.5 + 1.0
    daily.loc[off[:5], "ts"] = daily.loc[off[:5], "ts"] + pd.Timedelta(hours=6)  # not a day
    daily.loc[off[5], "ts"] = pd.NaT
    extra = pd.DataFrame({"customer_id": ["stranger", "c1"], "ts": [days[0], days[-1] + pd.Timedelta(days=3)],
                          "kwh": [99.0, 99.0]})
    daily = pd.concat([daily, extra], ignore_index=True)

    bad = validation.daily_disagrees_with_intervals(daily, hours, 24)

    complete = full.loc[full["size"] == 24, "sum"]
    complete.index = pd.MultiIndex.from_arrays([complete.index.get_level_values(0).astype(str),
                                                complete.index.get_level_values(1)])
    expected = complete.reindex(pd.MultiIndex.from_arrays([daily["customer_id"], daily["ts"]])).to_numpy()
    gap = (daily["kwh"] - expected).abs()
    want = (gap > 0.01 * np.maximum(daily["kwh"].abs(), np.abs(expected)) + 0.01).fillna(False).to_numpy()
    assert 40 < want.sum() < 60 and bad.to_numpy().tolist() == want.tolist()
