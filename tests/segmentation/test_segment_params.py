"""Segmentation takes params.yaml's `segment` section as `cfg.segment.as_dict()`; its defaults
are the config's, and a params problem is a one-line PowerlensError."""

import inspect

import pandas as pd
import pytest

from powerlens import features as F
from powerlens.config import ClusteringConfig, SegmentConfig, load_config
from powerlens.errors import PowerlensError
from powerlens.segmentation import WeightsError, check_params, segment, tiers
from powerlens.segmentation.clustering import cluster_load_shapes

SCORING = pd.Timestamp("2026-11-01")


def test_cluster_defaults_are_the_configs():
    defaults = ClusteringConfig()
    parameters = inspect.signature(cluster_load_shapes).parameters
    for name in ("sample_size", "algorithms", "stability_rounds", "min_stability", "min_cluster_share",
                 "stability_candidates", "min_coverage", "min_family_customers"):
        assert parameters[name].default == getattr(defaults, name), name


def test_weights_error_is_a_powerlens_error():
    params = load_config().segment.as_dict()
    check_params(params)
    params["value_weights"]["method"] = "ahp"
    params["value_weights"]["ahp"]["potential"]["capacity_increase_requests/new_install"] = 1 / 9
    with pytest.raises(WeightsError) as info:
        check_params(params)
    assert isinstance(info.value, PowerlensError) and isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def test_segment_runs_on_the_config_dict(small_data):
    cfg = load_config()
    clustering = cfg.segment.clustering.replace(k_max=4, sample_size=300, stability_rounds=2)
    params = cfg.replace("segment", clustering=clustering).segment.as_dict()
    assert params["clustering"]["fixed"] is None
    feats = F.build(small_data, SCORING)
    seg, clusters, metrics = segment(feats, F.profile_matrix(small_data, SCORING), params)
    assert len(seg) == len(feats) and metrics["customers"] == len(feats)
    assert seg["value_tier"].isin(["high", "medium", "low"]).all()
    assert (tiers(feats, params)["value_tier"].to_numpy() == seg["value_tier"].to_numpy()).all()
    assert set(params["credit"]["weights"]) == set(SegmentConfig().credit.weights)
    assert seg["credit_grade"].isin(["A", "B", "C"]).all() and seg["credit_score"].between(0, 1).all()
    assert metrics["credit_weights"]["method"] == "manual" and "over_contract_accounts" in metrics
    assert (tiers(feats, params)["big_customer"].to_numpy() == seg["big_customer"].to_numpy()).all()


def test_a_bad_big_customer_region_rule_or_power_factor_is_one_line():
    from powerlens.config import ConfigError

    big = load_config().segment.big_customer
    assert big.by_region["eastport"]["min_capacity_kva"] == 500 and big.min_peak_kw is None
    for change, message in (({"by_region": {"x": {"min_kva": 1}}}, "by_region.x.min_kva' \\(did you mean"),
                            ({"by_region": {"x": {"two_part_tariff_only": 1}}}, "must be true or false"),
                            ({"power_factor_by_class": {"public": 1.5}}, "must be a number in \\(0, 1\\]")):
        with pytest.raises(ConfigError, match=message) as info:
            big.replace(**change)
        assert "\n" not in str(info.value)
