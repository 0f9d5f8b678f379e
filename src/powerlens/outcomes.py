"""After the actions: what happened to the customers of a past plan, and how the plan worked.

`outcome_flags` says, per customer, whether an action's outcome could be measured over a period
and whether it happened; `review_actions` compares the groups of a past plan (on the list,
random holdout, next in line, everyone else) under a privacy threshold, and `review_readings`
says in one honest sentence per action what that comparison can and cannot show.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from powerlens.errors import InvalidInput
from powerlens.rules import paid_in_full

# what `outcome` in the playbook can measure after an action, and how the report names it
OUTCOMES = {
    "churn": "closed their account",
    "theft_confirmed": "inspected and theft confirmed (share of those inspected)",
    "arrears_cured": "paid off their past-due balance (share of those in arrears)",
    "capacity_increase": "asked for a capacity increase",
    "paid_digitally": "paid by a digital channel (share of those who paid)",
    "tou_enrolled": "moved to a time-of-use tariff (share of those billed flat before)",
}
# groups of an action's eligible customers, in the order the review shows them
GROUPS = {
    "acted": "on the list",
    "holdout": "random holdout (left out on purpose)",
    "next_in_line": "next in line (eligible, over capacity)",
    "everyone_else": "all other open accounts",
}


def outcome_flags(
    outcome: str,
    customer_ids: pd.Index,
    start: pd.Timestamp,
    end: pd.Timestamp,
    customers: pd.DataFrame,
    bills: pd.DataFrame | None = None,
    payments: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """What happened to each customer in [start, end) for one playbook outcome.

    Returns `measured` (the customer counts in the outcome's denominator) and `hit`, indexed by
    customer_id:
    churn: open at start; hit when the account closed in the window.
    theft_confirmed: inspected in the window; hit when an inspection confirmed theft.
    arrears_cured: a past-due balance at start (bills due before start, not paid in full);
    hit when those bills were paid in full by the end.
    capacity_increase: everyone; hit when a capacity increase was requested in the window.
    paid_digitally: paid in the window; hit when a payment went through a digital channel
    (`payment_channels.DIGITAL_CHANNELS`).
    tou_enrolled: billed in the window and never under ToU before it; hit when a bill in the
    window was billed under ToU (it carries kWh per tariff period, see powerlens.tariffs).
    """
    ids = pd.Index(pd.Series(customer_ids, dtype=str).unique(), name="customer_id")
    measured = pd.Series(False, index=ids)
    hit = pd.Series(False, index=ids)
    if outcome == "churn":
        cust = customers.assign(customer_id=customers["customer_id"].astype(str)).drop_duplicates("customer_id")
        cust = cust.set_index("customer_id").reindex(ids)
        end_date = cust["end_date"]
        measured = cust["start_date"].notna() & (cust["start_date"] < start) & (end_date.isna() | (end_date >= start))
        hit = measured & (end_date >= start) & (end_date < end)
    elif outcome in ("theft_confirmed", "capacity_increase"):
        ev = events if events is not None else pd.DataFrame(columns=["customer_id", "ts", "kind", "outcome"])
        ev = ev[(ev["ts"] >= start) & (ev["ts"] < end)]
        ev = ev.assign(customer_id=ev["customer_id"].astype(str))
        if outcome == "theft_confirmed":
            inspections = ev[ev["kind"] == "inspection"]
            measured = pd.Series(_member(ids, inspections["customer_id"]), index=ids)
            confirmed = inspections.loc[inspections["outcome"] == "theft_confirmed", "customer_id"]
            hit = pd.Series(_member(ids, confirmed), index=ids)
        else:
            measured = pd.Series(True, index=ids)
            hit = pd.Series(_member(ids, ev.loc[ev["kind"] == "capacity_increase", "customer_id"]), index=ids)
    elif outcome == "arrears_cured":
        measured, hit = _arrears_cured(ids, start, end, bills, payments)
    elif outcome == "paid_digitally":
        from powerlens.payment_channels import channel_kind

        pays = payments if payments is not None and "channel" in payments else pd.DataFrame(
            columns=["customer_id", "paid_on", "channel"])
        pays = pays[(pays["paid_on"] >= start) & (pays["paid_on"] < end)]
        if "customer_id" not in pays and bills is not None and "bill_id" in pays:  # payments name their bill
            owner = bills.assign(customer_id=bills["customer_id"].astype(str)).set_index("bill_id")["customer_id"]
            pays = pays.assign(customer_id=pays["bill_id"].map(owner))
        pays = pays.assign(customer_id=pays["customer_id"].astype(str))
        measured = pd.Series(_member(ids, pays["customer_id"]), index=ids)
        digital = pays.loc[channel_kind(pays["channel"]).eq("digital").to_numpy(), "customer_id"]
        hit = pd.Series(_member(ids, digital), index=ids)
    elif outcome == "tou_enrolled":
        measured, hit = _tou_enrolled(ids, start, end, bills)
    else:
        raise InvalidInput(f"unknown outcome {outcome!r}; known: {', '.join(OUTCOMES)}")
    return pd.DataFrame({"measured": measured.fillna(False).astype(bool).to_numpy(),
                         "hit": hit.fillna(False).astype(bool).to_numpy()}, index=ids)


def _tou_enrolled(ids: pd.Index, start: pd.Timestamp, end: pd.Timestamp, bills: pd.DataFrame | None
                  ) -> tuple[pd.Series, pd.Series]:
    from powerlens.rules import bill_issued_on
    from powerlens.tariffs import billed_under_tou

    none = pd.Series(False, index=ids)
    if bills is None or bills.empty:
        return none, none
    b = pd.DataFrame({"customer_id": bills["customer_id"].astype(str).to_numpy(),
                      "issued": bill_issued_on(bills).to_numpy(), "tou": billed_under_tou(bills).to_numpy()})
    before, window = b[b["issued"] < start], b[(b["issued"] >= start) & (b["issued"] < end)]
    on_tou_before = before.loc[before["tou"], "customer_id"]
    measured = pd.Series(_member(ids, window["customer_id"]) & ~_member(ids, on_tou_before), index=ids)
    hit = measured & pd.Series(_member(ids, window.loc[window["tou"], "customer_id"]), index=ids)
    return measured, hit


def _strings(values: Any) -> Any:
    """String ids as an Arrow array (zero-copy for Arrow-backed columns)."""
    import pyarrow as pa

    if isinstance(values, pd.Series | pd.Index) and isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    elif not isinstance(values, pd.Series | pd.Index):
        values = np.asarray(values, dtype=object)
    arr = pa.array(values, from_pandas=True)
    return arr.cast(pa.large_string()) if not pa.types.is_large_string(arr.type) else arr


def _member(values: pd.Series | pd.Index, pool: Any) -> np.ndarray:
    """values.isin(pool) for string ids, in Arrow's hash tables (pandas' isin and get_indexer on
    millions of strings took seconds each)."""
    import pyarrow.compute as pc

    return pc.is_in(_strings(values), value_set=pc.unique(_strings(pool))).to_numpy(zero_copy_only=False)


def _paid_by_bill(due_bills: Any, pays: pd.DataFrame, by: list[pd.Timestamp]) -> list[np.ndarray]:
    """The sum of `pays` (bill_id, paid_on, amount) per due bill paid before each date of `by`,
    0 where none (positions in Arrow's hash tables: no string index)."""
    import pyarrow.compute as pc

    unique = pc.unique(due_bills)
    position = pc.index_in(_strings(pays["bill_id"]), value_set=unique).to_numpy(zero_copy_only=False)
    found = ~np.isnan(position.astype(float))
    position = position[found].astype(np.int64)
    amounts = np.nan_to_num(pays["amount"].to_numpy(dtype=float)[found])
    paid_on = pays["paid_on"].to_numpy()[found]
    of_due = pc.index_in(due_bills, value_set=unique).to_numpy(zero_copy_only=False).astype(np.int64)
    return [np.bincount(position, weights=np.where(paid_on < date.to_datetime64(), amounts, 0.0),
                        minlength=len(unique))[of_due] for date in by]


def _arrears_cured(ids: pd.Index, start: pd.Timestamp, end: pd.Timestamp, bills: pd.DataFrame | None,
                   payments: pd.DataFrame | None) -> tuple[pd.Series, pd.Series]:
    """In arrears at start (a bill due before start not paid in full before start) and cured
    (every such bill paid in full before end)."""
    none = pd.Series(False, index=ids)
    if bills is None or bills.empty:
        return none, none
    due = bills[(bills["due_date"] < start).to_numpy() & _member(bills["customer_id"], ids)]
    pays = payments if payments is not None else pd.DataFrame(columns=["bill_id", "paid_on", "amount"])
    by_start, by_end = _paid_by_bill(_strings(due["bill_id"]), pays, [pd.Timestamp(start), pd.Timestamp(end)])
    amount = due["amount"].to_numpy(dtype=float)
    open_at_start = ~paid_in_full(by_start, amount)
    open_at_end = ~paid_in_full(by_end, amount)
    owing = due.loc[open_at_start, "customer_id"]
    still = due.loc[open_at_start & open_at_end, "customer_id"]
    measured = pd.Series(_member(ids, owing), index=ids)
    return measured, measured & ~pd.Series(_member(ids, still), index=ids)


def review_actions(
    groups: pd.DataFrame,
    flags: dict[str, pd.DataFrame],
    playbook: dict[str, Any],
    open_accounts: pd.Index,
    min_group_size: int,
) -> pd.DataFrame:
    """How a past plan worked: per action with an `outcome`, per group (on the list, random
    holdout, next in line, all other open accounts): customers, how many the outcome could be
    measured on, how many had it, and the rate. Groups or measured counts below
    min_group_size are shown as "<n" without a rate; when one is, the outcome of all other
    open accounts is hidden too, since a known total minus it would reveal the small group.

    `groups` is `action_groups` of the past plan (next in line cut to as many customers as
    the list); `flags` maps each outcome to `outcome_flags` over `open_accounts`.
    """
    small = f"<{min_group_size}"
    rows = []
    for action in playbook["actions"]:
        outcome = action.get("outcome")
        if outcome is None or outcome not in flags:
            continue
        name = action["name"]
        mine = groups[groups["action"] == name]
        listed = mine[mine["group"].isin(["acted", "holdout"])]
        nxt = mine[mine["group"] == "next_in_line"].sort_values("rank").head(len(listed))
        members = {
            "acted": mine.loc[mine["group"] == "acted", "customer_id"],
            "holdout": mine.loc[mine["group"] == "holdout", "customer_id"],
            "next_in_line": nxt["customer_id"],
            "everyone_else": pd.Series(open_accounts.difference(pd.Index(mine["customer_id"].astype(str)))),
        }
        flag = flags[outcome]
        hidden_small = False  # a small group hidden: everyone else's outcome would give it away
        for group, ids in members.items():
            if group == "holdout" and not action.get("holdout_share"):
                continue
            f = flag.reindex(pd.Index(ids.astype(str).unique())).fillna(False).astype(bool)
            n, measured, hits = len(f), int(f["measured"].sum()), int((f["measured"] & f["hit"]).sum())
            shown = n >= min_group_size and measured >= min_group_size
            measured_text = str(measured) if shown or measured == 0 else small
            if group != "everyone_else":
                hidden_small |= not shown and measured > 0
            elif hidden_small:  # a known total minus this group would reveal the small one
                shown, measured_text = False, "–"
            rows.append({
                "action": name, "outcome": OUTCOMES[outcome], "group": GROUPS[group],
                "customers": str(n) if n >= min_group_size or n == 0 else small,
                "measured": measured_text,
                "with outcome": str(hits) if shown else "–",
                "rate": hits / measured if shown else np.nan,
                "_group": group, "_n": measured if shown else 0, "_hits": hits if shown else 0,
            })
    return pd.DataFrame(rows, columns=["action", "outcome", "group", "customers", "measured", "with outcome",
                                       "rate", "_group", "_n", "_hits"])


def review_readings(review: pd.DataFrame, playbook: dict[str, Any]) -> dict[str, str]:
    """One honest sentence per reviewed action: a randomized estimate when the holdout is big
    enough on both sides, else what the comparison can and cannot say."""
    readings = {}
    for action in playbook["actions"]:
        rows = review[review["action"] == action["name"]].set_index("_group")
        if rows.empty:
            continue
        listed = rows.loc["acted"] if "acted" in rows.index else None
        held = rows.loc["holdout"] if "holdout" in rows.index else None
        if listed is None or listed["_n"] == 0:
            readings[action["name"]] = ("too few customers on the list could be measured to show a rate "
                                        "(privacy threshold)")
            continue
        if action.get("outcome") == "theft_confirmed":
            readings[action["name"]] = (
                "targeting check, not an effect: the share of inspections of listed customers that "
                "confirmed theft, against inspections elsewhere")
            continue
        if held is not None and held["_n"] > 0:
            p1, n1, p0, n0 = listed["rate"], listed["_n"], held["rate"], held["_n"]
            diff = p1 - p0
            se = float(np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0))
            readings[action["name"]] = (
                f"randomized: on the list {p1:.1%} vs holdout {p0:.1%}, difference {diff:+.1%} "
                f"(95% interval {diff - 1.96 * se:+.1%} to {diff + 1.96 * se:+.1%}; "
                f"{int(n1)} vs {int(n0)} customers); an interval that spans 0 shows no measurable effect")
            continue
        why = ("a random holdout this size cannot be shown yet (privacy threshold)"
               if action.get("holdout_share") else "there is no random holdout (playbook holdout_share)")
        readings[action["name"]] = (
            "observational only: listed customers were chosen for their scores or value, so their "
            "difference from the next in line or everyone else is not the effect of the action; "
            + why)
    return readings
