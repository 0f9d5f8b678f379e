"""The features take params.yaml's `features` section as `cfg.features.as_dict()`; the defaults
of build() and of the engine are the config's (one place)."""

import inspect

import pandas as pd

from powerlens import features as F
from powerlens.config import FeaturesConfig, load_config
from powerlens.features.engine import build_features

SCORING = pd.Timestamp("2026-11-01")


def test_build_options_from_the_config():
    params = load_config().features.as_dict()
    options = F.build_options(params)
    assert tuple(options) == F.BUILD_OPTIONS
    assert options["peak_hours"] == list(FeaturesConfig.peak_hours)
    cutoffs = F.cutoffs_from_params(SCORING, params)
    assert len(cutoffs[0]) == params["n_training_cutoffs"] and cutoffs[1] == SCORING


def test_defaults_are_the_configs():
    defaults = FeaturesConfig()
    assert inspect.signature(F.build).parameters["history_days"].default == defaults.history_days
    assert inspect.signature(F.profile_matrix).parameters["history_days"].default == defaults.history_days
    assert (inspect.signature(build_features).parameters["customers_per_partition"].default
            == defaults.customers_per_partition)


def test_features_with_the_config_equal_features_with_the_defaults(small_data):
    options = F.build_options(FeaturesConfig().as_dict())
    pd.testing.assert_frame_equal(F.build(small_data, SCORING), F.build(small_data, SCORING, **options))
