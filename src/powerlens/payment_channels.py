"""Payment channels: the channel mix by region and customer class over months, the move to
digital, and the customers still paying at counters (the targets of an e-payment campaign).

Which channels count as digital, counter or prepaid is said once, here (`CHANNEL_KINDS`); a
channel not listed is `other` (a missing one `unknown`), so a source with its own channel names
shows them rather than having them silently counted as digital. Pure functions of the clean
`payments` and `customers` tables; the output carries pseudonymous `customer_id`s only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.errors import InvalidInput

DIGITAL_CHANNELS = frozenset({"mobile_app", "direct_debit", "bank_transfer", "online", "app",
                              "online_banking", "e_wallet", "wechat", "alipay", "card_online"})
COUNTER_CHANNELS = frozenset({"counter", "cash", "service_hall", "bank_counter", "post_office"})
PREPAID_CHANNELS = frozenset({"prepaid"})
CHANNEL_KINDS = {"digital": DIGITAL_CHANNELS, "counter": COUNTER_CHANNELS, "prepaid": PREPAID_CHANNELS}
MIX_COLUMNS = ["period", "region", "customer_class", "channel", "channel_kind", "payments", "share"]
SHIFT_COLUMNS = ["period", "region", "customer_class", "payments", "digital_share", "counter_share"]
TREND_COLUMNS = ["region", "customer_class", "first_period", "last_period", "digital_share_first",
                 "digital_share_last", "digital_share_change_per_year"]
COUNTER_PAYER_COLUMNS = ["customer_id", "region", "customer_class", "payments", "counter_payments",
                         "counter_share", "last_counter_payment"]


def channel_kind(channel: pd.Series) -> pd.Series:
    """digital / counter / prepaid / other / unknown of each channel (lower-case names)."""
    name = channel.astype("string").str.strip().str.lower()
    kind = pd.Series("other", index=channel.index, dtype=object)
    for k, names in CHANNEL_KINDS.items():
        kind[name.isin(names).fillna(False).to_numpy()] = k
    kind[name.isna().to_numpy()] = "unknown"
    return kind


def _payments_with_groups(payments: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    for name, frame, cols in (("payments", payments, ["customer_id", "paid_on"]),
                              ("customers", customers, ["customer_id", "region", "customer_class"])):
        missing = [c for c in cols if c not in frame]
        if missing:
            raise InvalidInput(f"{name}: missing column(s) {', '.join(missing)} for the payment-channel analysis")
    groups = customers[["customer_id", "region", "customer_class"]].assign(
        customer_id=customers["customer_id"].astype(str),
        region=customers["region"].astype("string").fillna("unknown").astype(str))
    groups = groups.drop_duplicates("customer_id")
    channel = payments["channel"] if "channel" in payments else pd.Series(None, index=payments.index, dtype=object)
    pays = pd.DataFrame({"customer_id": payments["customer_id"].astype(str).to_numpy(),
                         "paid_on": pd.to_datetime(payments["paid_on"]).to_numpy(),
                         "channel": channel.astype("string").str.strip().str.lower().fillna("unknown").to_numpy(),
                         "channel_kind": channel_kind(channel).to_numpy()})
    pays = pays.merge(groups, on="customer_id", how="inner")
    pays["period"] = pays["paid_on"].dt.to_period("M").astype(str)
    return pays


def channel_mix(payments: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """Payments per (period, region, customer class, channel) and their share of the group's
    payments that month. Columns: MIX_COLUMNS."""
    pays = _payments_with_groups(payments, customers)
    keys = ["period", "region", "customer_class"]
    mix = pays.groupby([*keys, "channel", "channel_kind"]).size().rename("payments").reset_index()
    mix["share"] = (mix["payments"] / mix.groupby(keys)["payments"].transform("sum")).round(4)
    return mix[MIX_COLUMNS].sort_values([*keys, "channel"], ignore_index=True)


def digital_shift(payments: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """Per (period, region, customer class): the payments whose channel says how the customer
    paid (not prepaid top-ups, not unknown) and the digital and counter shares of them."""
    pays = _payments_with_groups(payments, customers)
    pays = pays[pays["channel_kind"].isin(["digital", "counter", "other"])]
    keys = ["period", "region", "customer_class"]
    g = pays.assign(digital=pays["channel_kind"].eq("digital"), counter=pays["channel_kind"].eq("counter"))
    out = g.groupby(keys).agg(payments=("digital", "size"), digital_share=("digital", "mean"),
                              counter_share=("counter", "mean")).reset_index()
    out[["digital_share", "counter_share"]] = out[["digital_share", "counter_share"]].round(4)
    return out[SHIFT_COLUMNS].sort_values(keys, ignore_index=True)


def digital_trend(shift: pd.DataFrame, min_payments: int = 20) -> pd.DataFrame:
    """Per (region, customer class): the digital share of its first and last month and the
    least-squares change per year over the months with at least `min_payments` payments."""
    rows = []
    for (region, cls), part in shift[shift["payments"] >= min_payments].groupby(["region", "customer_class"]):
        part = part.sort_values("period")
        months = pd.PeriodIndex(part["period"], freq="M").asi8.astype(float)
        share = part["digital_share"].to_numpy(dtype=float)
        slope = float(np.polyfit(months, share, 1)[0]) * 12 if len(part) >= 2 else np.nan
        rows.append((region, cls, part["period"].iloc[0], part["period"].iloc[-1], share[0], share[-1],
                     round(slope, 4)))
    return pd.DataFrame(rows, columns=TREND_COLUMNS)


def counter_payers(payments: pd.DataFrame, customers: pd.DataFrame, as_of: str | pd.Timestamp,
                   months: int = 6, min_counter_share: float = 0.5) -> pd.DataFrame:
    """The accounts open at `as_of` that paid at a counter for at least `min_counter_share` of
    their payments in the `months` months before it: the targets of an e-payment campaign,
    most counter payments first. Pseudonymous customer ids only. Columns: COUNTER_PAYER_COLUMNS."""
    if months < 1 or not 0 < min_counter_share <= 1:
        raise InvalidInput(f"counter payers: months must be >= 1 and min_counter_share in (0, 1], "
                           f"not {months} and {min_counter_share}")
    as_of = pd.Timestamp(as_of)
    pays = _payments_with_groups(payments, customers)
    pays = pays[(pays["paid_on"] < as_of) & (pays["paid_on"] >= as_of - pd.DateOffset(months=months))]
    if "end_date" in customers:
        ended = customers.loc[customers["end_date"].notna() & (customers["end_date"] <= as_of), "customer_id"]
        pays = pays[~pays["customer_id"].isin(ended.astype(str))]
    counter = pays["channel_kind"].eq("counter")
    per = pays.assign(counter=counter, counter_on=pays["paid_on"].where(counter)).groupby(
        ["customer_id", "region", "customer_class"]).agg(
        payments=("counter", "size"), counter_payments=("counter", "sum"), last_counter_payment=("counter_on", "max"))
    per = per.reset_index()
    per["counter_share"] = (per["counter_payments"] / per["payments"]).round(4)
    per = per[(per["counter_payments"] > 0) & (per["counter_share"] >= min_counter_share)]
    return per[COUNTER_PAYER_COLUMNS].sort_values(["counter_payments", "customer_id"], ascending=[False, True],
                                                  ignore_index=True)
