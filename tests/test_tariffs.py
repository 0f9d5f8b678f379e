"""Tariffs: the prices in force for a customer, bills recomputed from them (the synthetic
utility's bills within 1%), the ToU offer simulation, and the price features against the
generator's planted price sensitivity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from powerlens.errors import InvalidInput
from powerlens.outcomes import outcome_flags
from powerlens.tariffs import expected_bills, prices_on, tou_offer, tou_offer_candidates


def _row(cls="residential", region=None, v=0.0, scheme="flat", period="flat", price=0.5, charge=None,
         valid_from="2024-01-01"):
    return {"customer_class": cls, "region": region, "voltage_kv_min": v, "scheme": scheme, "period": period,
            "price_per_kwh": price, "capacity_charge_per_kva_month": charge, "valid_from": pd.Timestamp(valid_from)}


TARIFFS = pd.DataFrame([
    _row(price=0.50), _row(price=0.55, valid_from="2025-01-01"),
    _row(region="north", price=0.60),                              # the region's own price wins
    _row(v=10.0, price=0.45),                                      # a higher voltage band is cheaper
    _row(scheme="tou", period="peak", price=0.80), _row(scheme="tou", period="flat", price=0.50),
    _row(scheme="tou", period="valley", price=0.20),
    _row(cls="commercial", price=0.70, charge=30.0),
])


def test_the_most_specific_tariff_in_force_applies():
    cls = pd.Series(["residential", "residential", "residential", "residential", "commercial"])
    region = pd.Series(["south", "NORTH", "south", "south", None])
    volt = pd.Series([0.22, 0.22, 10.0, 0.22, 0.4])
    on = pd.Series(pd.to_datetime(["2024-06-01", "2024-06-01", "2024-06-01", "2025-02-01", "2024-06-01"]))
    p = prices_on(TARIFFS, cls, region, volt, on)
    assert p["flat_price"].tolist() == [0.50, 0.60, 0.45, 0.55, 0.70]
    assert p.loc[0, ["tou_price_peak", "tou_price_flat", "tou_price_valley"]].tolist() == [0.80, 0.50, 0.20]
    assert np.isnan(p.loc[0, "tou_price_sharp"]) and np.isnan(p.loc[4, "tou_price_peak"])
    assert p["capacity_charge_per_kva_month"].tolist() == [0, 0, 0, 0, 30.0]


def test_prices_are_resolved_per_row_whatever_the_row_order_and_the_repeats():
    """Rows are grouped by their distinct class / region / voltage / date (a region in any case,
    or none); each row still gets the prices it would get alone, in its own place."""
    rng = np.random.default_rng(5)
    n = 400
    cls = pd.Series(rng.choice(["residential", "commercial"], n), index=np.arange(n) * 3 + 7)
    region = pd.Series(rng.choice(np.array(["north", "North", "NORTH", "south", None], dtype=object), n),
                       index=cls.index)
    volt = pd.Series(rng.choice([0.22, 0.4, 10.0, np.nan], n), index=cls.index)
    on = pd.Series(pd.to_datetime(rng.choice(["2024-06-01", "2025-02-01", "2025-03-01"], n)), index=cls.index)
    together = prices_on(TARIFFS, cls, region, volt, on)
    assert together.index.equals(cls.index)
    alone = pd.concat([prices_on(TARIFFS, cls.iloc[[i]], region.iloc[[i]], volt.iloc[[i]], on.iloc[[i]])
                       for i in range(0, n, 37)])
    pd.testing.assert_frame_equal(together.loc[alone.index], alone)
    order = rng.permutation(n)
    shuffled = prices_on(TARIFFS, cls.iloc[order], region.iloc[order], volt.iloc[order], on.iloc[order])
    pd.testing.assert_frame_equal(shuffled.loc[together.index], together)
    north = (region.str.lower() == "north") & (cls == "residential") & (volt < 10) & (on < "2025-01-01")
    assert (together.loc[north, "flat_price"] == 0.60).all() and north.sum() > 10


def test_a_customer_without_a_tariff_is_a_clear_error():
    with pytest.raises(InvalidInput, match="no flat tariff applies.*'agricultural'"):
        prices_on(TARIFFS, pd.Series(["agricultural"]), pd.Series(["south"]), pd.Series([0.4]),
                  pd.Timestamp("2024-06-01"))
    with pytest.raises(InvalidInput, match="2023-01-01"):  # before any tariff was valid
        prices_on(TARIFFS, pd.Series(["residential"]), pd.Series(["south"]), pd.Series([0.4]),
                  pd.Timestamp("2023-01-01"))


def _raw(folder):
    cust = pd.read_csv(folder / "customers.csv", parse_dates=["start_date", "end_date"]).rename(
        columns={"account_no": "customer_id"})
    bills = pd.read_csv(folder / "bills.csv", parse_dates=["bill_date", "due_date"]).rename(
        columns={"account_no": "customer_id", "bill_no": "bill_id"})
    events = pd.read_csv(folder / "service_events.csv", parse_dates=["ts"]).rename(
        columns={"account_no": "customer_id"})
    tariffs = pd.read_csv(folder / "tariffs.csv", parse_dates=["valid_from"])
    return cust, bills, events, tariffs


def test_the_synthetic_utilitys_bills_match_its_tariffs_within_one_percent(small_raw):
    cust, bills, _, tariffs = _raw(small_raw)
    checked = expected_bills(bills, cust, tariffs)
    assert len(checked) == len(bills)
    assert checked["within_tolerance"].all(), checked[~checked["within_tolerance"]].head()
    assert (checked["deviation"].abs() <= 0.01).all()
    assert set(checked["scheme"]) == {"flat", "tou"}
    # two-part tariff customers pay a capacity charge, the others none
    two_part = cust.set_index("customer_id")["two_part_tariff"].reindex(checked["customer_id"]).to_numpy()
    assert (checked.loc[two_part, "capacity_charge"] > 0).mean() > 0.95
    assert (checked.loc[~two_part, "capacity_charge"] == 0).all()
    # a bill 5% too high, and one priced flat although its meter registered ToU periods, are caught
    tampered = bills.copy()
    tampered.loc[0, "amount"] = round(tampered.loc[0, "amount"] * 1.05, 2)
    peaky = (tampered["kwh_peak"] / tampered["kwh"]).where(tampered["kwh"] > 100)  # ToU costs it well over flat
    tou_row = peaky.idxmax()
    tampered.loc[tou_row, ["kwh_peak", "kwh_flat", "kwh_valley"]] = np.nan
    flagged = expected_bills(tampered, cust, tariffs).set_index("bill_id")["within_tolerance"]
    assert not flagged[tampered.loc[0, "bill_id"]] and not flagged[tampered.loc[tou_row, "bill_id"]]
    assert flagged.sum() == len(bills) - 2


def _profiles(**cols):
    return pd.DataFrame(cols, index=pd.Index(["a", "b", "c"][:len(next(iter(cols.values())))], name="customer_id"))


def test_tou_offer_prices_the_customers_own_profile_with_the_load_shift():
    prices = pd.DataFrame({"flat_price": [0.5] * 3, "tou_price_sharp": [np.nan] * 3, "tou_price_peak": [0.8] * 3,
                           "tou_price_flat": [0.5] * 3, "tou_price_valley": [0.2] * 3},
                          index=pd.Index(["a", "b", "c"], name="customer_id"))
    profiles = _profiles(kwh_365d=[10_000.0, 10_000.0, 0.0], peak_share=[0.2, 0.6, 0.3],
                         flat_share=[0.3, 0.3, 0.4], valley_share=[0.5, 0.1, 0.3], load_factor=[0.5, 0.3, 0.4])
    offer = tou_offer(profiles, prices, load_shift=0.1)
    # a: peak 0.18, flat 0.3, valley 0.52: 10,000 x (0.144 + 0.15 + 0.104) = 3,980 against 5,000 flat
    assert offer.loc["a", "tou_bill_12m"] == pytest.approx(3980.0)
    assert offer.loc["a", "tou_expected_saving"] == pytest.approx(1020.0)
    assert offer.loc["a", "tou_load_factor_gain"] == pytest.approx(0.5 / 0.9 - 0.5, abs=1e-4)
    # b: peaky, ToU costs more: a negative saving, said as such
    assert offer.loc["b", "tou_expected_saving"] < 0 and "cost" in offer.loc["b", "tou_reason"]
    assert "saves 1,020 a year" in offer.loc["a", "tou_reason"]
    # c: no consumption to price
    assert np.isnan(offer.loc["c", "tou_expected_saving"]) and "profile" in offer.loc["c", "tou_reason"]
    # moving more load to the valley saves more
    assert (tou_offer(profiles, prices, 0.3)["tou_expected_saving"].iloc[:2] > offer["tou_expected_saving"].iloc[:2]).all()
    with pytest.raises(InvalidInput, match="load shift"):
        tou_offer(profiles, prices, 1.0)


def test_tou_offer_candidates_leave_out_customers_already_on_tou():
    feats = pd.DataFrame({"customer_class": ["residential"] * 2, "region": ["south", "south"],
                          "voltage_kv": [0.22, 0.22], "tou_tariff": [0.0, 1.0], "kwh_365d": [5000.0, 5000.0],
                          "peak_share": [0.2, 0.2], "flat_share": [0.3, 0.3], "valley_share": [0.5, 0.5],
                          "load_factor": [0.4, 0.4]}, index=pd.Index(["a", "b"], name="customer_id"))
    out = tou_offer_candidates(feats, TARIFFS, 0.15, pd.Timestamp("2024-06-01"))
    assert out.loc["a", "tou_expected_saving"] > 0
    assert np.isnan(out.loc["b", "tou_expected_saving"]) and out.loc["b", "tou_reason"] == "already on a ToU tariff"
    none = tou_offer_candidates(feats, None, 0.15, pd.Timestamp("2024-06-01"))
    assert none["tou_expected_saving"].isna().all() and none["tou_reason"].str.contains("no tariffs").all()


def test_tou_enrolled_counts_customers_whose_bills_moved_to_tou():
    bills = pd.DataFrame({
        "customer_id": ["a", "a", "b", "b", "c", "c", "d"],
        "bill_date": pd.to_datetime(["2025-01-31", "2025-02-28"] * 3 + ["2024-12-31"]),
        "kwh_peak": [np.nan, 40.0, np.nan, np.nan, 30.0, 30.0, np.nan],
    })
    bills["due_date"] = bills["bill_date"] + pd.Timedelta(days=20)
    flags = outcome_flags("tou_enrolled", pd.Index(["a", "b", "c", "d"]), pd.Timestamp("2025-02-01"),
                          pd.Timestamp("2025-03-01"), pd.DataFrame(columns=["customer_id"]), bills)
    # a moved to ToU; b stayed flat; c was on ToU already; d had no bill in the window
    assert flags["measured"].tolist() == [True, True, False, False]
    assert flags["hit"].tolist() == [True, False, False, False]


@pytest.fixture(scope="module")
def three_years(tmp_path_factory):
    """Three years, so that a year on either side of the tariff revision can be compared."""
    from powerlens.synthetic import SyntheticConfig, generate

    out = tmp_path_factory.mktemp("raw36")
    generate(SyntheticConfig(customers=700, months=36, seed=3), out)
    return out


def test_price_sensitivity_ranks_the_generators_planted_sensitivity(three_years):
    from powerlens.features.price import price_features

    cust, bills, events, tariffs = _raw(three_years)
    as_of = pd.Timestamp("2026-11-01")
    feats = price_features(bills, events, cust, tariffs, pd.Index(cust["customer_id"]), as_of, 365)
    truth = pd.read_parquet(three_years / "ground_truth.parquet").set_index("account_no")["price_sensitivity"]
    known = feats["price_sensitivity"].notna()
    assert known.mean() > 0.7
    rho = spearmanr(feats.loc[known, "price_sensitivity"], truth.reindex(feats.index[known])).correlation
    assert rho >= 0.3, rho
    # what a customer pays per kWh, and the shares of its ToU bill
    priced = feats["avg_price_per_kwh"].dropna()  # customers billed in the last year
    assert len(priced) > 0.8 * len(feats) and priced.between(0.2, 3.0).mean() > 0.95
    shares = feats[["bill_share_peak", "bill_share_flat", "bill_share_valley"]].dropna()
    assert len(shares) and np.allclose(shares.sum(axis=1), 1.0)
    # row order and the customers' ids do not change a customer's estimate
    shuffled = bills.sample(frac=1.0, random_state=1)
    again = price_features(shuffled, events, cust, tariffs, pd.Index(cust["customer_id"]), as_of, 365)
    pd.testing.assert_frame_equal(feats, again)


def test_without_tariffs_the_bill_shares_and_elasticity_are_unknown(three_years):
    from powerlens.features.price import price_features

    cust, bills, events, _ = _raw(three_years)
    feats = price_features(bills, events, cust, None, pd.Index(cust["customer_id"]), pd.Timestamp("2026-11-01"), 365)
    assert feats["price_elasticity_kwh"].isna().all() and feats["bill_share_peak"].isna().all()
    assert feats["avg_price_per_kwh"].notna().mean() > 0.9


def test_the_playbooks_tou_offer_lists_only_customers_who_save_ranked_by_saving():
    from pathlib import Path

    from powerlens import strategy

    project = strategy.load_playbook(Path(__file__).parents[1] / "playbook.yaml")
    playbook = {**project, "actions": [a for a in project["actions"] if a["name"] == "tou_offer"]}
    n = 1000
    ids = [f"c{i:04d}" for i in range(n)]
    saving = [float((i * 37) % 500 - 150) if i % 4 else float("nan") for i in range(n)]
    segments = pd.DataFrame({"customer_id": ids, "tou_expected_saving": saving,
                             "tou_reason": [f"ToU saves {s:,.0f} a year" for s in saving],
                             "value_tier": "low", "credit_grade": "A", "value_score": 0.1})
    plan = strategy.plan_actions(segments, pd.DataFrame(columns=["customer_id", "task", "score", "rank", "reasons"]),
                                 playbook)
    tou = plan[plan["action"] == "tou_offer"].sort_values("rank")
    listed = tou["customer_id"].map(dict(zip(ids, saving, strict=True)))
    capacity = next(a["capacity"] for a in playbook["actions"] if a["name"] == "tou_offer")
    assert (listed > 0).all() and (~tou["holdout"]).sum() == capacity
    assert tou["holdout"].any()  # a random holdout to measure the uptake
    assert listed.is_monotonic_decreasing and tou["reasons"].str.contains("ToU saves").all()


def test_malformed_tariff_rows_go_to_quarantine_with_a_reason_and_counts_reconcile():
    from powerlens import validation
    from powerlens.schema import Quarantine, check

    raw = pd.DataFrame({
        "customer_class": [" Residential", "residential", "shipping", "residential", "residential", "commercial",
                           "commercial", "residential", "residential"],
        "region": ["", "North ", None, "", "", "", "", "", ""],
        "voltage_kv_min": ["0", "", "0", "0", "-1", "10", "0", "0", "abc"],
        "scheme": ["flat", "flat", "flat", "tou", "flat", "flat", "flat", "flat", "flat"],
        "period": ["flat", "flat", "flat", "midnight", "flat", "peak", "flat", "flat", "flat"],
        "price_per_kwh": ["0.5", "0.6", "0.5", "0.4", "0.5", "0.7", "0", "0.5", "0.5"],
        "capacity_charge_per_kva_month": ["", "28", "", "", "", "", "", "", ""],
        "valid_from": ["2024-01-01", "2024-01-01", "2024-01-01", "2024-01-01", "2024-01-01", "2024-01-01",
                       "2024-01-01", "2024-01-01 ", "2024-01-01"],
        "_line": range(2, 11),
    })
    q = Quarantine()
    ok = validation.tariffs(raw, q, "tariffs.csv")
    rep = q.reports["tariffs"]
    assert rep.reasons == {"unknown_customer_class": 1, "unknown_period": 1, "voltage_negative": 1,
                           "flat_scheme_period": 1, "price_not_positive": 1, "duplicate_tariff": 1,
                           "voltage_not_numeric": 1}
    assert rep.reconciled and len(ok) == 2
    assert ok["region"].tolist() == [None, "north"] and ok["customer_class"].tolist() == ["residential"] * 2
    check("tariffs", ok)  # the canonical schema holds


def test_the_bill_check_counts_bills_off_their_tariff_and_without_one(small_raw):
    from powerlens.validation import bill_tariff_check

    cust, bills, _, tariffs = _raw(small_raw)
    bills.loc[3, "amount"] = bills.loc[3, "amount"] * 2 + 10
    report = bill_tariff_check(bills, cust, tariffs[tariffs["customer_class"] != "public"])
    public = cust.loc[cust["customer_class"] == "public", "customer_id"]
    n_public = int(bills["customer_id"].isin(public).sum())
    assert report["bills_without_tariff"] == n_public > 0
    assert report["bills_off_tariff"] == (0 if bills.loc[3, "customer_id"] in set(public) else 1)
    assert report["bills_checked"] + report["bills_without_tariff"] == len(bills)
    assert report["bills_matching_tariff"] == report["bills_checked"] - report["bills_off_tariff"]
