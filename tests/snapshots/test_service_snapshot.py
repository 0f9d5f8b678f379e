"""The service part of a snapshot on the small synthetic utility: the planted poor-service
region-month becomes rectification items in its period and is checked (closed) the next;
payment channels, and the report's tables of them."""

import pandas as pd

from conftest import SMALL
from powerlens import features as F
from powerlens.config import Config
from powerlens.report import tables
from powerlens.snapshots.service import service_tables
from powerlens.synthetic import SyntheticConfig
from powerlens.synthetic.events import planted_poor_service


def test_the_planted_poor_service_month_is_rectified_then_followed_up(small_clean):
    cfg = Config()
    clean = F.load_clean(small_clean, with_readings=False)
    planted = planted_poor_service(SyntheticConfig(**SMALL))
    period = planted["period"]
    cutoff = (pd.Period(period, "M") + 1).to_timestamp()
    now = service_tables(clean, period, cutoff, None, cfg.service, cfg.payments)
    assert {"service_kpis", "rectification", "rectification_follow_up", "payment_channel_shift",
            "payment_channel_trend", "counter_payers"} <= set(now)
    items = now["rectification"]
    assert len(items) and set(items["period"]) == {period}
    assert planted["region"] in set(items["region"])
    assert (items.loc[items["region"].eq(planted["region"]), "kpi"].nunique()) >= 2
    assert not (now["service_kpis"]["period"] > period).any()  # nothing after the period
    # a month later the same items are checked: the planted month is over
    later_period = str(pd.Period(period, "M") + 1)
    later = service_tables(clean, later_period, cutoff + pd.offsets.MonthBegin(1), None, cfg.service, cfg.payments)
    follow = later["rectification_follow_up"]
    planted_items = follow[follow["region"].eq(planted["region"])]
    assert len(planted_items) and set(planted_items["period"]) == {period}
    by_kpi = planted_items.set_index("kpi")
    assert by_kpi.loc["complaints_per_10k", "status"] == "closed"  # judged on the region's accounts
    # a KPI a normal month of 600 customers cannot judge (a few faults, callbacks) stays open, saying why
    unjudged = planted_items[planted_items["status"].eq("still_open")]
    assert unjudged["note"].str.startswith("not measured").all()
    # the report's tables in words, one region at a time
    shown = tables.service_kpi_table(now["service_kpis"], period, None, min_group_size=10)
    assert planted["region"] in shown.index and "callback satisfaction (1-5)" in shown.columns
    worded = tables.rectification_table(items, planted["region"])
    assert set(worded["region"]) == {planted["region"]} and worded["target"].str.startswith("at ").all()
    assert "still open" in set(tables.rectification_table(follow)["status"]) | {"still open"}
    trend = tables.channel_trend_table(now["payment_channel_trend"])
    assert len(trend) and trend["digital share now"].str.endswith("%").all()
    payers = now["counter_payers"]
    assert payers["counter_share"].ge(cfg.payments.counter_min_share).all()
