"""One card per big customer (大客户档案): what an account manager reads before a visit.

Capacity and tariff, load shape, value tier and credit grade, consumption and its trend, load
factor against the industry, service events, and the actions planned for it this period. Built
from the snapshot's tables only (segments, features, industry peers, plan); every text that
comes from data is escaped.
"""

from __future__ import annotations

from html import escape

import pandas as pd

from powerlens.report.i18n import t, value_word

CARD_STYLE = ("<style>.pl-cards{display:flex;flex-wrap:wrap;gap:12px}"
              ".pl-card{border:1px solid #bbb;border-radius:6px;padding:8px 12px;width:380px;"
              "break-inside:avoid;font-size:13px;color:#111;background:#fff}"
              ".pl-card h4{margin:0 0 6px 0;font-size:14px}.pl-card dl{display:grid;"
              "grid-template-columns:minmax(9em,max-content) 1fr;gap:2px 8px;margin:0}"
              ".pl-card dt{color:#444;white-space:nowrap;width:auto;float:none;font-weight:normal}"
              ".pl-card dd{margin:0}</style>")


def _value(row: pd.Series | None, column: str):
    if row is None or column not in row.index:
        return None
    value = row[column]
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def _fmt(value, pattern: str = "{:,.0f}", suffix: str = "") -> str:
    if value is None:
        return "–"
    try:
        return pattern.format(value) + suffix
    except (TypeError, ValueError):
        return str(value)


def _card(customer: str, seg: pd.Series, feat: pd.Series | None, peer: pd.Series | None,
          actions: pd.DataFrame, language: str = "en", currency: str = "") -> str:
    def say(key: str, **fmt) -> str:
        return t(key, language, **fmt)

    def words(value) -> str:
        return "–" if value is None else value_word(str(value), language)

    tariff = say("card_two_part" if _value(feat, "two_part_tariff") else "card_single_part") + (
        say("card_tou") if _value(feat, "tou_tariff") else "")
    voltage = _value(feat, "voltage_kv")
    lf_pct = _value(peer, "load_factor_percentile")
    lines = [
        (say("card_class_industry"), f"{words(_value(seg, 'customer_class'))}, {words(_value(feat, 'industry'))}"),
        (say("card_region"), _value(seg, "region") or "–"),
        (say("card_capacity"), _fmt(_value(seg, "capacity_kva"), suffix=" kVA")
         + (say("card_at_kv", kv=_fmt(voltage, "{:g}")) if voltage is not None else "")),
        (say("card_tariff"), tariff),
        (say("card_load_shape"), words(_value(seg, "load_shape"))),
        (say("card_tier_credit"), say("card_grade", tier=words(_value(seg, "value_tier")),
                                      grade=_value(seg, "credit_grade") or "–")),
        (say("card_energy"), _fmt(_value(seg, "kwh_365d"), suffix=" kWh")),
        (say("card_revenue"), _fmt(_value(seg, "revenue_12m"), suffix=f" {currency}" if currency else "")),
        (say("card_trend"), _fmt(_value(feat, "trend_pct_per_year"), "{:+.1f}", say("card_per_year"))),
        (say("card_peak_lf"), f"{_fmt(_value(feat, 'peak_kw'), suffix=' kW')}, "
                              f"{_fmt(_value(feat, 'load_factor') or _value(feat, 'daily_load_factor'), '{:.2f}')}"
                              + (say("card_percentile", p=f"{lf_pct:.0f}") if lf_pct is not None else "")),
        (say("card_service"), say("card_service_text", complaints=_fmt(_value(feat, "complaints_12m")),
                                  faults=_fmt(_value(feat, "fault_reports_12m")),
                                  requests=_fmt(_value(feat, "capacity_increase_requests")))),
        (say("card_actions"), "; ".join(
            say("card_action_rank", action=value_word(a, language), rank=int(r))
            for a, r in zip(actions["action"], actions["rank"], strict=True)) or say("card_none")),
    ]
    body = "".join(f"<dt>{escape(str(k))}</dt><dd>{escape(str(v))}</dd>" for k, v in lines)
    return f'<div class="pl-card"><h4>{escape(customer)}</h4><dl>{body}</dl></div>'


def big_customer_cards(segments: pd.DataFrame, features: pd.DataFrame | None, plan: pd.DataFrame | None,
                       peers: pd.DataFrame | None, top_n: int, language: str = "en",
                       currency: str = "") -> tuple[str, int]:
    """The HTML of the cards of the `top_n` big customers by 12-month revenue (then id), and how
    many big customers there are; labels in the language, revenue in the currency."""
    big = segments[segments["big_customer"].fillna(False).astype(bool)]
    big = big.assign(customer_id=big["customer_id"].astype(str),
                     _revenue=pd.to_numeric(big["revenue_12m"], errors="coerce").fillna(0.0))
    chosen = big.sort_values(["_revenue", "customer_id"], ascending=[False, True]).head(top_n)

    def by_id(frame: pd.DataFrame | None) -> pd.DataFrame | None:
        if frame is None or frame.empty:
            return None
        return frame.assign(customer_id=frame["customer_id"].astype(str)).drop_duplicates("customer_id").set_index(
            "customer_id")

    feats, peer = by_id(features), by_id(peers)
    planned = (plan.assign(customer_id=plan["customer_id"].astype(str)) if plan is not None and len(plan)
               else pd.DataFrame(columns=["customer_id", "action", "rank"]))
    cards = []
    for _, seg in chosen.iterrows():
        cid = seg["customer_id"]
        feat = feats.loc[cid] if feats is not None and cid in feats.index else None
        p = peer.loc[cid] if peer is not None and cid in peer.index else None
        actions = planned[planned["customer_id"] == cid].sort_values(["action", "rank"])
        cards.append(_card(cid, seg, feat, p, actions, language, currency))
    return CARD_STYLE + '<div class="pl-cards">' + "".join(cards) + "</div>", len(big)
