"""params.yaml as typed, frozen sections: defaults in one place, one-line errors naming the key."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import pytest
import yaml

from powerlens.config import (
    Config,
    ConfigError,
    DataConfig,
    FrozenDict,
    SourceConfig,
    flatten,
    load_config,
    load_params,
    project_root,
)
from powerlens.errors import PowerlensError

PARAMS = project_root() / "params.yaml"


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _contains(given, full, key="") -> None:
    """Every value of `given` (the YAML) is in `full` (as_dict), under the same dotted key."""
    if isinstance(given, dict):
        assert isinstance(full, dict), key
        for k, v in given.items():
            assert k in full, f"{key}.{k}"
            _contains(v, full[k], f"{key}.{k}")
    else:
        assert given == full, (key, given, full)


def test_defaults_equal_params_yaml():
    raw = yaml.safe_load(PARAMS.read_text())
    _contains(raw, Config().as_dict())
    assert load_config(PARAMS) == Config()


def test_as_dict_round_trips_the_real_params_yaml():
    cfg = load_config(PARAMS)
    full = cfg.as_dict()
    _contains(yaml.safe_load(PARAMS.read_text()), full)
    assert Config.from_dict(full) == cfg
    assert Config.from_dict(yaml.safe_load(yaml.safe_dump(full))) == cfg  # plain YAML-able values
    assert load_params(PARAMS) == full
    for section in ("generate", "data", "validate", "features", "segment", "train", "report"):
        assert full[section] == getattr(cfg, section).as_dict()
    # plain containers, not the frozen ones: domain functions may copy and change them
    assert type(full["train"]["capacity"]) is dict and type(full["features"]["peak_hours"]) is list
    assert flatten(full)["train.lightgbm.num_leaves"] == cfg.train.lightgbm["num_leaves"]


def test_attribute_access():
    cfg = load_config(PARAMS)
    assert cfg.generate.customers == 10000
    assert cfg.features.horizon_months == 3
    assert cfg.train.tasks == ("churn", "arrears", "theft")
    assert cfg.train.search.n_trials == 8
    assert cfg.segment.clustering.k_min == 3
    assert cfg.segment.big_customer.min_capacity_kva == 315
    assert cfg.report.periods == ("2026-10",) and cfg.report.period == "2026-10"
    assert cfg.report.top_n == 20 and cfg.report.min_group_size == 10


def test_missing_keys_take_their_defaults(tmp_path):
    cfg = load_config(_write(tmp_path, {"features": {"threads": 8}, "segment": {"clustering": {"k_max": 6}}}))
    assert cfg.features.threads == 8 and cfg.features.history_days == 365
    assert cfg.segment.clustering.k_max == 6 and cfg.segment.clustering.k_min == 3
    assert cfg.train == Config().train
    assert cfg.segment.as_dict()["clustering"]["fixed"] is None  # optional key: present, None


@pytest.mark.parametrize("data, key, suggestion", [
    ({"train": {"capcity": {"churn": 10}}}, "train.capcity", "train.capacity"),
    ({"segment": {"clustering": {"k_mni": 2}}}, "segment.clustering.k_mni", "segment.clustering.k_min"),
    ({"train": {"search": {"n_trails": 2}}}, "train.search.n_trails", "train.search.n_trials"),
    ({"report": {"period": "2026-10"}}, "report.period", "report.periods"),
    ({"featurs": {}}, "featurs", "features"),
    ({"data": {"source": {"format": "lcl", "path": "x", "mapin": "m.yaml"}}}, "data.source.mapin",
     "data.source.mapping"),
])
def test_a_misspelt_key_is_named_in_one_line_with_the_nearest_valid_key(tmp_path, data, key, suggestion):
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, data))
    message = str(info.value)
    assert "\n" not in message
    assert message == f"params.yaml: unknown key '{key}' (did you mean '{suggestion}'?)"
    assert isinstance(info.value, PowerlensError)


@pytest.mark.parametrize("data, key", [
    ({"features": {"threads": "two"}}, "features.threads"),
    ({"features": {"threads": True}}, "features.threads"),
    ({"features": {"peak_hours": [8, "nine"]}}, "features.peak_hours[1]"),
    ({"features": {"engine": "spark"}}, "features.engine"),
    ({"generate": {"customers": 1.5}}, "generate.customers"),
    ({"train": {"capacity": [100, 200]}}, "train.capacity"),
    ({"train": {"search": {"enabled": "yes"}}}, "train.search.enabled"),
    ({"segment": {"clustering": "kmeans"}}, "segment.clustering"),
    ({"segment": {"value_weights": {"method": "votes"}}}, "segment.value_weights.method"),
    ({"data": {"source": "lcl"}}, "data.source"),
    ({"report": {"periods": "2026-10"}}, "report.periods"),
    ({"report": {"periods": ["2026-13"]}}, "report.periods[0]"),
])
def test_a_wrong_type_is_refused_naming_the_key(tmp_path, data, key):
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, data))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"params.yaml: '{key}' must be"), message


def test_a_missing_file_or_bad_yaml_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="params file not found"):
        load_config(tmp_path / "nowhere.yaml")
    bad = tmp_path / "params.yaml"
    bad.write_text("features: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_the_config_is_frozen():
    cfg = load_config(PARAMS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.features.threads = 8  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.train = None  # type: ignore[misc]
    with pytest.raises(TypeError):
        cfg.train.capacity["churn"] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        cfg.train.lightgbm_by_task["acorn_group"]["num_leaves"] = 1  # nested mappings too
    assert isinstance(cfg.train.capacity, FrozenDict) and isinstance(cfg.features.peak_hours, tuple)
    # a copy from as_dict() is the caller's to change
    params = cfg.train.as_dict()
    params["capacity"]["churn"] = 1
    assert cfg.train.capacity["churn"] == 100
    assert pickle.loads(pickle.dumps(cfg)) == cfg  # to worker processes


def test_replace_gives_a_new_checked_config():
    cfg = load_config(PARAMS)
    faster = cfg.replace("features", threads=4, customers_per_partition=5000)
    assert (faster.features.threads, faster.features.customers_per_partition) == (4, 5000)
    assert cfg.features.threads == 2  # unchanged
    assert faster.train is cfg.train
    off = cfg.replace("train", search=cfg.train.search.replace(enabled=False))
    assert off.train.search.enabled is False and off.train.search.n_trials == 8
    tuned = cfg.replace("train", search={"n_trials": 20})  # a nested section: only the keys given change
    assert tuned.train.search.n_trials == 20 and tuned.train.search.max_rows == cfg.train.search.max_rows
    assert cfg.replace("train", capacity={"churn": 5}).train.capacity == {"churn": 5}  # a mapping: whole
    with pytest.raises(ConfigError, match="unknown key 'train.search.n_trails'"):
        cfg.replace("train", search={"n_trails": 20})
    assert dataclasses.replace(cfg.features, threads=3).threads == 3
    with pytest.raises(ConfigError, match="'features.threads' must be an integer"):
        cfg.replace("features", threads="many")
    with pytest.raises(ConfigError, match="'features.thread'.*did you mean 'features.threads'"):
        cfg.replace("features", thread=4)
    with pytest.raises(ConfigError, match="'features.threads' must be an integer"):
        dataclasses.replace(cfg.features, threads="many")


def test_data_source_synthetic_or_a_mapping(tmp_path, monkeypatch):
    assert load_config(PARAMS).data.source_settings() == ("synthetic", Path("data/raw"), None)
    monkeypatch.setenv("POWERLENS_EXPORTS", "/srv/exports")
    cfg = load_config(_write(tmp_path, {"data": {"source": {"format": "csv", "path": "$POWERLENS_EXPORTS/2026",
                                                             "mapping": "mapping.yaml"}}}))
    assert isinstance(cfg.data.source, SourceConfig)
    assert cfg.data.source_settings() == ("csv", Path("/srv/exports/2026"), Path("mapping.yaml"))
    assert cfg.data.as_dict()["source"] == {
        "format": "csv", "path": "$POWERLENS_EXPORTS/2026", "mapping": "mapping.yaml"}
    home = DataConfig.from_dict({"source": {"format": "lcl", "path": "~/lcl"}})
    assert home.source_settings() == ("lcl", Path.home() / "lcl", None)
    assert DataConfig.from_dict({"source": None}).source == "synthetic"  # `source:` left empty
    with pytest.raises(ConfigError, match="'data.source.path' is required"):
        DataConfig.from_dict({"source": {"format": "lcl"}})


@pytest.mark.parametrize(("section", "change", "message"), [
    ("train", {"capacity": {"chrun": 100}}, "unknown key 'train.capacity.chrun' (did you mean 'train.capacity.churn'?)"),
    ("train", {"capacity": {"churn": 0}}, "'train.capacity.churn' must be a whole number of accounts >= 1, got 0"),
    ("train", {"primary_metric": "brier"}, "'train.primary_metric' must be 'roc_auc' or 'pr_auc'"),
    ("features", {"tou_by_region": {"eastport": {"peak_hour": [8]}}},
     "unknown key 'features.tou_by_region.eastport.peak_hour' (did you mean 'features.tou_by_region.eastport.peak_hours'?)"),
    ("features", {"tou_by_region": {"eastport": {"valley_hours": [0, 24]}}},
     "'features.tou_by_region.eastport.valley_hours' must be a list of hours 0..23"),
    # the bounds of a whole utility's memory (issue 18)
    ("generate", {"customers_per_partition": 0}, "'generate.customers_per_partition' must be at least 1"),
    ("train", {"max_training_rows": 10}, "'train.max_training_rows' must be at least 1000 (or null)"),
    ("validate", {"engine": "spark"}, "'validate.engine' must be"),
    ("segment", {"engine": "ray"}, "'segment.engine' must be"),
])
def test_keys_with_a_known_set_of_names_or_values_are_checked(section, change, message):
    """Inside the free-form mappings too: a misspelt task or tariff-period name would otherwise
    be ignored without a word (the task gets no capacity, the region the default hours)."""
    cfg = load_config(PARAMS)
    with pytest.raises(ConfigError) as caught:
        cfg.replace(section, **change)
    assert message in str(caught.value)
    # a task that a source labels (not a derived one) may have its own capacity
    assert cfg.replace("train", capacity={**cfg.train.capacity, "acorn_group": 30}).train.capacity["acorn_group"] == 30


def test_params_are_read_as_yaml_1_2_like_dvc_reads_them(tmp_path):
    """`on`, `yes`, `no` are strings (YAML 1.2, as DVC's own parser reads params.yaml), not booleans:
    a region called "on" keeps its name."""
    path = tmp_path / "params.yaml"
    path.write_text("features:\n  tou_by_region:\n    on: {peak_hours: [18, 19]}\n    no: {valley_hours: [2]}\n")
    cfg = load_config(path)
    assert set(cfg.features.tou_by_region) == {"on", "no"}
    path.write_text("train:\n  search:\n    enabled: yes\n")
    with pytest.raises(ConfigError, match="train.search.enabled"):
        load_config(path)
