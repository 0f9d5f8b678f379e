"""Tariffs: the canonical `tariffs` table (prices per customer class, region, voltage level,
scheme and period, with the two-part tariff's capacity charge and the date each price is valid
from), the prices in force for a customer on a date, a bill recomputed from them, and the
time-of-use (ToU) offer: each customer's bill under the flat and the ToU tariff from its own load
profile, with an assumed share of peak load moved to the valley.

A tariff row applies to a customer when its class matches, its region is the customer's (or
empty: every region), its `voltage_kv_min` is at most the customer's supply voltage, and it is
valid from the date or before. Of those, the most specific wins: the customer's own region over
every region, then the highest voltage band, then the latest `valid_from`.

The schemes: `flat` has one period, `flat` (the whole day); `tou` has `peak`, `flat` (the
shoulder, 平段), `valley` and optionally `sharp` (尖峰). A bill carrying kWh per period
(kwh_peak, kwh_flat, kwh_valley, kwh_sharp: the ToU meter's registers) was billed under ToU;
a bill without them under the flat scheme.

Pure: tables in, tables out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.errors import InvalidInput

SCHEMES = ("flat", "tou")
TARIFF_PERIODS = ("sharp", "peak", "flat", "valley")
TOU_PERIODS = TARIFF_PERIODS
# the bill's kWh per ToU period (the meter's registers)
PERIOD_KWH = {period: f"kwh_{period}" for period in TARIFF_PERIODS}
PRICE_COLUMNS = ["flat_price"] + [f"tou_price_{p}" for p in TOU_PERIODS] + ["capacity_charge_per_kva_month"]
BILL_TOLERANCE = 0.01  # a bill matches its tariff within 1% ...
BILL_TOLERANCE_ABS = 0.05  # ... or within this amount (rounding of small bills to cents)


# how a key column is compared with the tariffs: class as text, region in lower case ("" for
# none: every region's tariff), voltage in kV (0 for none), the date as a timestamp
_KEY_NORMALIZED = {
    "customer_class": lambda s: s.astype(str).to_numpy(),
    "region": lambda s: s.astype("string").str.lower().fillna("").to_numpy(),
    "voltage_kv": lambda s: pd.to_numeric(s, errors="coerce").fillna(0.0).to_numpy(dtype=float),
    "on": lambda s: pd.to_datetime(s).to_numpy(dtype="datetime64[us]"),
}


def _distinct_keys(customer_class: pd.Series, region: pd.Series, voltage_kv: pd.Series,
                   on: pd.Series) -> tuple[pd.DataFrame, np.ndarray]:
    """(each distinct normalized class / region / voltage / date once, sorted by them; for each
    input row, the position of its key there). Each column is factorized (hashed once per row)
    and only its distinct values are normalized (_KEY_NORMALIZED): a table of millions of bills
    is neither turned into Python strings nor merged back on four columns."""
    columns = {"customer_class": customer_class, "region": region, "voltage_kv": voltage_kv, "on": on}
    key = np.zeros(len(customer_class), dtype=np.int64)
    codes, values = {}, {}
    for name, col in columns.items():
        raw_codes, distinct = pd.factorize(col, use_na_sentinel=False)
        # two raw values may be one key ("North" and "north"): re-coded by their normalized values
        norm_codes, values[name] = pd.factorize(_KEY_NORMALIZED[name](pd.Series(distinct)), sort=True)
        codes[name] = norm_codes[raw_codes]
        key = pd.factorize(key * len(values[name]) + codes[name], sort=True)[0].astype(np.int64)
    first = np.unique(key, return_index=True)[1]
    combos = pd.DataFrame({name: np.asarray(values[name])[codes[name][first]] for name in columns})
    return combos, key


def prices_on(tariffs: pd.DataFrame, customer_class: pd.Series, region: pd.Series, voltage_kv: pd.Series,
              on: pd.Series | pd.Timestamp, missing: str = "raise") -> pd.DataFrame:
    """The prices in force for each row (a customer, or a customer and a date): `flat_price`,
    `tou_price_<period>` (NaN where the ToU scheme has no such period or no ToU tariff applies)
    and `capacity_charge_per_kva_month` (the two-part tariff's, 0 where none), in the input's
    order and index. A row no flat tariff applies to raises InvalidInput naming it, or with
    `missing="nan"` gets NaN prices."""
    on = pd.to_datetime(on if isinstance(on, pd.Series) else pd.Series(on, index=customer_class.index))
    combos, row_key = _distinct_keys(customer_class, region, voltage_kv, on)
    tar = tariffs.assign(region=tariffs["region"].astype("string").str.lower().fillna(""),
                         valid_from=pd.to_datetime(tariffs["valid_from"]).astype("datetime64[us]"))
    resolved = []
    for scheme in SCHEMES:
        rows = tar[tar["scheme"] == scheme]
        m = combos.reset_index().merge(rows, on="customer_class", suffixes=("", "_tariff"))
        m = m[((m["region_tariff"] == "") | (m["region_tariff"] == m["region"]))
              & (m["voltage_kv_min"] <= m["voltage_kv"] + 1e-9) & (m["valid_from"] <= m["on"])]
        if m.empty:
            continue
        m = m.assign(own_region=(m["region_tariff"] != "").astype(int))
        best = (m.sort_values(["index", "own_region", "voltage_kv_min", "valid_from"])
                .groupby("index")[["own_region", "voltage_kv_min", "valid_from"]].last())
        m = m.merge(best.reset_index(), on=["index", "own_region", "voltage_kv_min", "valid_from"])
        price = m.pivot_table(index="index", columns="period", values="price_per_kwh", aggfunc="first")
        if scheme == "flat":
            part = pd.DataFrame({"flat_price": price.get("flat")}, index=price.index)
        else:
            part = pd.DataFrame({f"tou_price_{p}": price.get(p) for p in TOU_PERIODS}, index=price.index)
        charge = m.groupby("index")["capacity_charge_per_kva_month"].max()
        part[f"charge_{scheme}"] = charge
        resolved.append(part)
    out = pd.concat(resolved, axis=1) if resolved else pd.DataFrame(index=combos.index)
    out = out.reindex(combos.index)
    for col in PRICE_COLUMNS[:-1]:
        if col not in out:
            out[col] = np.nan
    charges = [c for c in ("charge_flat", "charge_tou") if c in out]
    out["capacity_charge_per_kva_month"] = out[charges].max(axis=1).fillna(0.0) if charges else 0.0
    unpriced = out["flat_price"].isna()
    if unpriced.any() and missing == "raise":
        first = combos[unpriced].iloc[0]
        raise InvalidInput(
            f"no flat tariff applies to {int(unpriced.sum())} customer class / region / voltage combination(s), "
            f"e.g. class {first['customer_class']!r}, region {first['region'] or '(none)'!r}, "
            f"{first['voltage_kv']:g} kV on {pd.Timestamp(first['on']).date()}: the tariffs table needs a row for it")
    return pd.DataFrame(out[PRICE_COLUMNS].astype(float).to_numpy()[row_key], columns=PRICE_COLUMNS,
                        index=customer_class.index)


def billed_under_tou(bills: pd.DataFrame) -> pd.Series:
    """Whether each bill was billed under ToU: it carries kWh per tariff period (PERIOD_KWH);
    all False for a table without those columns."""
    cols = [c for c in PERIOD_KWH.values() if c in bills]
    return bills[cols].notna().any(axis=1) if cols else pd.Series(False, index=bills.index)


def energy_charge(kwh: pd.Series, period_kwh: pd.DataFrame, prices: pd.DataFrame) -> pd.Series:
    """The energy part of a bill: kWh per period at the ToU prices where the bill has period
    kWh, else all kWh at the flat price; NaN where a price it needs is missing (no tariff
    applies, or kWh in a period the ToU tariff does not have)."""
    tou = billed_under_tou(period_kwh)
    at_tou = pd.Series(0.0, index=kwh.index)
    for p in TOU_PERIODS:
        if PERIOD_KWH[p] in period_kwh:
            used = period_kwh[PERIOD_KWH[p]].fillna(0.0)
            at_tou = at_tou + (used * prices[f"tou_price_{p}"]).where(used > 0, 0.0)
    at_flat = kwh.fillna(0.0) * prices["flat_price"]
    return pd.Series(np.where(tou, at_tou, at_flat), index=kwh.index).where(prices["flat_price"].notna())


def _month_start(period: pd.Series) -> pd.Series:
    """The first day of each billing month (YYYY-MM), each distinct month parsed once."""
    codes, months = pd.factorize(period.astype(str))
    return pd.Series(pd.to_datetime(pd.Series(months) + "-01").to_numpy()[codes], index=period.index)


def days_open_share(period: pd.Series, start_date: pd.Series, end_date: pd.Series) -> pd.Series:
    """The share of each billing month (YYYY-MM) the account was open: [start_date, end_date)."""
    month_start = _month_start(period)
    month_end = month_start + pd.offsets.MonthBegin(1)
    lo = np.maximum(month_start.to_numpy(), pd.to_datetime(start_date).dt.normalize().to_numpy())
    hi_raw = pd.to_datetime(end_date).dt.normalize().fillna(pd.Timestamp.max.normalize())
    hi = np.minimum(month_end.to_numpy(), hi_raw.to_numpy())
    days = np.clip((hi - lo) / np.timedelta64(1, "D"), 0, None)
    return pd.Series(days / ((month_end - month_start).dt.days.to_numpy()), index=period.index)


def expected_bills(bills: pd.DataFrame, customers: pd.DataFrame, tariffs: pd.DataFrame) -> pd.DataFrame:
    """Each bill recomputed from the tariff in force at the start of its month: the energy charge
    (period kWh at ToU prices, or kWh at the flat price) plus, for two-part tariff customers, the
    capacity charge on the contracted kVA for the days the account was open. Columns: bill_id,
    customer_id, scheme, energy_charge, capacity_charge, expected_amount, amount, deviation
    (amount / expected - 1) and within_tolerance (False where no tariff applies: expected NaN).
    Bills of customers not in `customers` are left out."""
    cust = customers.set_index("customer_id")
    position = cust.index.get_indexer(bills["customer_id"])
    b = bills[position >= 0]
    c = cust.iloc[position[position >= 0]].set_axis(b.index)
    on = _month_start(b["period"])
    prices = prices_on(tariffs, c["customer_class"], c["region"], c["voltage_kv"], on, missing="nan")
    period_cols = [col for col in PERIOD_KWH.values() if col in b]
    period_kwh = b[period_cols] if period_cols else pd.DataFrame(index=b.index)
    energy = energy_charge(b["kwh"], period_kwh, prices)
    two_part = c["two_part_tariff"].astype(bool)
    share = days_open_share(b["period"], c["start_date"], c.get("end_date", pd.Series(pd.NaT, index=b.index)))
    capacity = np.where(two_part, c["capacity_kva"].fillna(0.0) * prices["capacity_charge_per_kva_month"] * share, 0.0)
    expected = energy + capacity
    amount = b["amount"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        deviation = np.where(expected > 0, amount / expected - 1,
                             np.where(expected.isna(), np.nan, np.where(amount == 0, 0.0, np.inf)))
    within = (amount - expected).abs() <= np.maximum(BILL_TOLERANCE * expected.abs(), BILL_TOLERANCE_ABS)
    return pd.DataFrame({
        "bill_id": b["bill_id"].array, "customer_id": b["customer_id"].astype(str).array,
        "period": b["period"].astype(str).array,
        "scheme": np.where(billed_under_tou(b), "tou", "flat"),
        "energy_charge": energy.round(2).to_numpy(), "capacity_charge": np.round(capacity, 2),
        "expected_amount": expected.round(2).to_numpy(), "amount": amount.to_numpy(),
        "deviation": np.round(deviation, 6), "within_tolerance": within.to_numpy(),
    })


def tou_offer(profiles: pd.DataFrame, prices: pd.DataFrame, load_shift: float) -> pd.DataFrame:
    """Each customer's energy bill over a year under the flat tariff and under ToU, from its own
    load profile (`kwh_365d` and the shares `peak_share`, `flat_share`, `valley_share` of its kWh
    in the tariff periods, optionally `sharp_share`), after moving `load_shift` of its peak (and
    sharp) kWh to the valley, the way a customer on ToU does; and the expected gain in load factor
    (the peak demand falls with the peak kWh moved: load_factor / (1 - load_shift), at most 1).

    `profiles` and `prices` share an index (customer). Columns: flat_bill_12m, tou_bill_12m,
    tou_expected_saving (flat minus ToU, per year), tou_load_factor_gain, tou_reason. Customers
    without a profile or a ToU price get NaN and a reason saying why."""
    if not 0 <= load_shift < 1:
        raise InvalidInput(f"the ToU load shift must be a share in [0, 1), got {load_shift!r}")
    kwh = profiles["kwh_365d"].astype(float)
    share = {p: profiles[f"{p}_share"].astype(float) if f"{p}_share" in profiles else pd.Series(0.0, index=profiles.index)
             for p in TOU_PERIODS}
    moved = {p: share[p] * load_shift for p in ("sharp", "peak")}
    after = {"sharp": share["sharp"] - moved["sharp"], "peak": share["peak"] - moved["peak"],
             "flat": share["flat"], "valley": share["valley"] + moved["sharp"] + moved["peak"]}
    tou_price = {p: prices[f"tou_price_{p}"] for p in TOU_PERIODS}
    # a period the ToU tariff does not have is billed at its shoulder (flat) price
    tou_rate = sum(after[p] * tou_price[p].fillna(tou_price["flat"]) for p in TOU_PERIODS)
    flat_bill = kwh * prices["flat_price"]
    tou_bill = kwh * tou_rate
    saving = flat_bill - tou_bill
    lf = profiles["load_factor"].astype(float) if "load_factor" in profiles else pd.Series(np.nan, index=profiles.index)
    gain = np.minimum(lf / (1 - load_shift), 1.0) - lf
    has_profile = share["peak"].notna() & share["valley"].notna() & share["flat"].notna() & (kwh > 0)
    has_tou = tou_price["peak"].notna() & tou_price["valley"].notna() & tou_price["flat"].notna()
    ok = has_profile & has_tou
    pct = (saving / flat_bill).where(flat_bill > 0)
    reason = np.where(
        ~has_profile, "no hourly load profile (interval readings) to simulate ToU",
        np.where(~has_tou, "no ToU tariff for its class, region and voltage",
                 [f"ToU saves {s:,.0f} a year ({p:.1%} of {f:,.0f}) if it moves {load_shift:.0%} of its peak load "
                  f"({pk:.0%} of its kWh in peak hours, {v:.0%} in the valley)"
                  if s > 0 else
                  f"ToU would cost {-s:,.0f} a year more ({pk:.0%} of its kWh in peak hours)"
                  for s, p, f, pk, v in zip(saving.fillna(0), pct.fillna(0), flat_bill.fillna(0),
                                            share["peak"].fillna(0), share["valley"].fillna(0), strict=True)]))
    return pd.DataFrame({
        "flat_bill_12m": flat_bill.where(ok).round(2), "tou_bill_12m": tou_bill.where(ok).round(2),
        "tou_expected_saving": saving.where(ok).round(2), "tou_load_factor_gain": gain.where(ok).round(4),
        "tou_reason": reason,
    }, index=profiles.index)


def tou_offer_candidates(feats: pd.DataFrame, tariffs: pd.DataFrame | None, load_shift: float,
                         as_of: pd.Timestamp) -> pd.DataFrame:
    """tou_offer for the customers of a features table (indexed by customer): customers already
    on ToU (`tou_tariff`), and every customer when there is no tariffs table, get no saving and a
    reason saying why. Prices are those in force on `as_of`."""
    cols = ["flat_bill_12m", "tou_bill_12m", "tou_expected_saving", "tou_load_factor_gain", "tou_reason"]
    out = pd.DataFrame({c: np.nan for c in cols[:-1]}, index=feats.index)
    out["tou_reason"] = "no tariffs table to price a ToU offer"
    if tariffs is None or tariffs.empty or feats.empty:
        return out
    prices = prices_on(tariffs, feats["customer_class"], feats["region"], feats["voltage_kv"], pd.Timestamp(as_of))
    offer = tou_offer(feats, prices, load_shift)
    on_tou = feats["tou_tariff"].fillna(0).astype(bool) if "tou_tariff" in feats else pd.Series(False, index=feats.index)
    offer.loc[on_tou, cols[:-1]] = np.nan
    offer.loc[on_tou, "tou_reason"] = "already on a ToU tariff"
    return offer[cols]
