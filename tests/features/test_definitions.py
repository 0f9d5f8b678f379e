"""Every feature is described and reads in its units."""


from powerlens import features as F
from powerlens.features.definitions import FEATURES, describe


def test_every_feature_built_is_described(small_data):
    feats = F.build(small_data, "2026-08-01")
    built = [c for c in feats.columns if c not in ("customer_id", "as_of") and not c.startswith("attr_")]
    assert set(built) <= set(FEATURES)
    assert len(built) >= 50
    assert all(describe(c) for c in built)
    assert feats["customer_id"].is_unique
    # the source's own customer attributes come along as typed static features
    assert "attr_interval_metered" in feats and describe("attr_interval_metered").startswith("source attribute")


def test_feature_values_read_in_their_units():
    from powerlens.features.definitions import format_value

    assert format_value("on_time_rate", 0.4) == "40%"
    assert format_value("days_since_complaint", 19.0) == "19 days"
    assert format_value("tenure_years", 0.44) == "0.4 years"
    assert format_value("arrears_amount", 1234.4) == "1,234"
    assert format_value("trend_pct_per_year", 35.0) == "+35.0 %/year"
    assert format_value("region", "riverside") == "riverside"
    assert format_value("daily_load_factor", float("nan")) == "missing"
