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
    params["value_weights"]["ahp"]["current"]["kwh_365d/on_time_rate"] = 1 / 9
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
    assert set(params["latent_big_weights"]) == set(SegmentConfig().latent_big_weights)
