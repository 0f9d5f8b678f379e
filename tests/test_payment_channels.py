"""Payment channels: the mix by region and class over months, the move to digital, and the
customers still paying at counters."""

import pandas as pd
import pytest

from powerlens import payment_channels as pc
from powerlens.errors import InvalidInput


def _customers() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["a", "b", "c", "d"],
        "region": ["north", "north", "south", None],
        "customer_class": ["residential", "residential", "commercial", "residential"],
        "start_date": pd.Timestamp("2020-01-01"),
        "end_date": [pd.NaT, pd.NaT, pd.NaT, pd.Timestamp("2025-05-15")],
        "customer_name": ["must", "not", "leak", "out"],
    })


def _payments(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["customer_id", "paid_on", "channel"])
    df["paid_on"] = pd.to_datetime(df["paid_on"])
    df["bill_id"] = [f"b{i}" for i in range(len(df))]
    df["amount"] = 10.0
    return df


PAYMENTS = _payments([
    ("a", "2025-01-10", "counter"), ("a", "2025-02-10", "counter"), ("a", "2025-03-10", "counter"),
    ("a", "2025-04-10", "Mobile_App"), ("a", "2025-05-10", "counter"), ("a", "2025-06-10", "counter"),
    ("b", "2025-01-12", "counter"), ("b", "2025-02-12", "mobile_app"), ("b", "2025-03-12", "mobile_app"),
    ("b", "2025-04-12", "direct_debit"), ("b", "2025-05-12", "mobile_app"), ("b", "2025-06-12", "mobile_app"),
    ("c", "2025-01-05", "prepaid"), ("c", "2025-02-05", "post_box"), ("c", "2025-03-05", None),
    ("d", "2025-01-20", "counter"), ("d", "2025-04-20", "counter"), ("d", "2025-05-10", "cash"),
])


def test_channel_kinds_are_defined_once_and_unknown_names_are_not_counted_digital():
    kinds = pc.channel_kind(pd.Series(["Mobile_App ", "counter", "prepaid", "post_box", None]))
    assert list(kinds) == ["digital", "counter", "prepaid", "other", "unknown"]
    assert not pc.DIGITAL_CHANNELS & pc.COUNTER_CHANNELS


def test_channel_mix_shares_add_up_per_region_class_and_month():
    mix = pc.channel_mix(PAYMENTS, _customers())
    assert set(mix.columns) == set(pc.MIX_COLUMNS)
    sums = mix.groupby(["period", "region", "customer_class"])["share"].sum()
    assert sums.round(3).eq(1.0).all()
    jan_north = mix[mix["period"].eq("2025-01") & mix["region"].eq("north")].set_index("channel")
    assert jan_north.loc["counter", "payments"] == 2 and jan_north.loc["counter", "share"] == 1.0
    assert "unknown" in set(mix["region"])  # a customer without region is shown, not dropped


def test_digital_share_leaves_prepaid_and_unknown_out_and_its_trend_is_per_year():
    shift = pc.digital_shift(PAYMENTS, _customers())
    north = shift[shift["region"].eq("north")].set_index("period")
    assert north.loc["2025-01", "digital_share"] == 0.0 and north.loc["2025-02", "digital_share"] == 0.5
    assert north.loc["2025-04", "digital_share"] == 1.0
    south = shift[shift["region"].eq("south")]
    assert list(south["payments"]) == [1] and south["digital_share"].item() == 0.0  # post_box: other
    trend = pc.digital_trend(shift, min_payments=2).set_index("region")
    assert trend.loc["north", "digital_share_change_per_year"] > 0
    assert trend.loc["north", "first_period"] == "2025-01" and trend.loc["north", "last_period"] == "2025-06"


def test_counter_payers_are_open_accounts_mostly_at_the_counter_with_pseudonymous_ids_only():
    payers = pc.counter_payers(PAYMENTS, _customers(), "2025-07-01", months=6, min_counter_share=0.5)
    assert list(payers["customer_id"]) == ["a"]  # b mostly digital, d closed in May
    assert list(payers.columns) == pc.COUNTER_PAYER_COLUMNS
    row = payers.iloc[0]
    assert (row["payments"], row["counter_payments"], row["counter_share"]) == (6, 5, 0.8333)
    assert row["last_counter_payment"] == pd.Timestamp("2025-06-10")
    # as of May, over three months: d is still open and paid only at counters (cash counts)
    may = pc.counter_payers(PAYMENTS, _customers(), "2025-05-12", months=3)
    assert set(may["customer_id"]) == {"a", "d"}
    with pytest.raises(InvalidInput, match="min_counter_share"):
        pc.counter_payers(PAYMENTS, _customers(), "2025-07-01", min_counter_share=0)


def test_the_small_utility_has_channel_shares_and_counter_payers(small_clean):
    payments = pd.read_parquet(small_clean / "payments.parquet")
    customers = pd.read_parquet(small_clean / "customers.parquet")
    shift = pc.digital_shift(payments, customers)
    assert shift["digital_share"].between(0, 1).all() and shift["counter_share"].between(0, 1).all()
    assert (shift["digital_share"] + shift["counter_share"]).le(1 + 1e-9).all()
    trend = pc.digital_trend(shift)
    assert len(trend) and trend["digital_share_change_per_year"].abs().lt(0.2).all()  # no planted move to digital
    payers = pc.counter_payers(payments, customers, payments["paid_on"].max() + pd.Timedelta(days=1))
    assert 0 < len(payers) < 0.5 * len(customers)
    assert payers["customer_id"].isin(customers["customer_id"]).all()
