"""Typed access to params.yaml: the one place where tunables are read and their defaults live.

`load_config()` reads params.yaml once into frozen dataclasses, one per section (`generate`,
`data`, `validate`, `features`, `segment`, `train`, `score`, `report`). Every key has its default here,
on its dataclass field, and nowhere else: a key missing from params.yaml takes it. An unknown
or misspelt key, or a value of the wrong type, is a `ConfigError` said in one line that names
the dotted key (and the nearest valid key):

    params.yaml: unknown key 'train.capcity' (did you mean 'train.capacity'?)

Domain functions keep taking plain dicts: `cfg.features.as_dict()` is the section with every
default filled in (lists, not tuples), and `cfg.as_dict()` the whole file as the stages read it
(MLflow logs that same dict). Free-form mappings (hyperparameters, per-task and per-source
settings, criterion weights) stay mappings: read-only `FrozenDict`s in the config, plain dicts in
`as_dict()`.

Changing a value gives a new config, checked like the file:

    cfg = load_config()
    cfg = cfg.replace("features", threads=4, customers_per_partition=5_000)
    search = cfg.train.search.replace(enabled=False)          # a nested section
    cfg = cfg.replace("train", search=search)
    dataclasses.replace(cfg.features, threads=4)              # also checked (__post_init__)
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from powerlens.config_base import (
    ConfigError,
    FrozenDict,
    Section,
    Table,
    check_keys,
    coerce,
    unknown_key,
)
from powerlens.config_base import table as _table
from powerlens.config_defaults import BY_SOURCE, DERIVED_FEATURES
from powerlens.errors import read_yaml
from powerlens.paths import ProjectPaths, project_root
from powerlens.rules import TASKS, is_period
from powerlens.service_quality import ServiceTargets

__all__ = [
    "ConfigError", "Config", "load_config", "load_params", "FrozenDict", "Section",
    "GenerateConfig", "DataConfig", "SourceConfig", "ValidateConfig", "PlausibilityConfig",
    "FeaturesConfig", "SegmentConfig",
    "BigCustomerConfig", "ValueWeightsConfig", "ClusteringConfig", "TrainConfig", "SearchConfig",
    "ReportConfig", "ScoreConfig", "flatten", "write_json", "project_root",
]


# ---------------------------------------------------------------------------------------------
# the sections


@dataclasses.dataclass(frozen=True)
class GenerateConfig(Section):
    """The synthetic utility (`powerlens generate`)."""

    _path: ClassVar[str] = "generate"

    customers: int = 10000
    months: int = 36
    seed: int = 42
    end: str = "2026-11-01"  # exclusive: the data ends the day before
    interval_metered_residential_share: float = 0.10
    customers_per_partition: int = 5000  # bounds memory: the hourly split and readings rows of this many at a time

    def _check(self) -> None:
        if self.customers_per_partition < 1:
            raise ConfigError("'generate.customers_per_partition' must be at least 1, "
                              f"got {self.customers_per_partition}")


@dataclasses.dataclass(frozen=True)
class SourceConfig(Section):
    """`data.source` when it is a real export: its import format, where it is, and the column
    mapping of the generic CSV format."""

    _path: ClassVar[str] = "data.source"

    format: str = ""
    path: str = ""
    mapping: str | None = None

    def _check(self) -> None:
        for name in ("format", "path"):
            if not getattr(self, name):
                raise ConfigError(f"'data.source.{name}' is required when data.source is a mapping "
                                  "({format: ..., path: ..., mapping: ...})")


@dataclasses.dataclass(frozen=True)
class DataConfig(Section):
    _path: ClassVar[str] = "data"

    source: Literal["synthetic"] | SourceConfig = "synthetic"

    def __post_init__(self) -> None:
        if self.source is None:  # `source:` left empty: the synthetic utility
            object.__setattr__(self, "source", "synthetic")
        super().__post_init__()

    def source_settings(self) -> tuple[str, Path, Path | None]:
        """(format, path, mapping) of the source: the synthetic utility's raw export, or the
        configured export (`path` with environment variables and `~` expanded)."""
        if not isinstance(self.source, SourceConfig):
            return "synthetic", ProjectPaths().raw, None
        path = Path(os.path.expandvars(self.source.path)).expanduser()
        mapping = Path(self.source.mapping) if self.source.mapping else None
        return self.source.format, path, mapping


@dataclasses.dataclass(frozen=True)
class PlausibilityConfig(Section):
    """What a reading, bill or payment may physically be (see validation.Plausibility and
    docs/data-and-privacy.md): rows beyond these limits are quarantined, not accepted."""

    _path: ClassVar[str] = "validate.plausibility"

    capacity_margin: float = 1.5  # a reading may exceed capacity_kva x hours by this factor, no more
    max_kw_by_class: Table = _table({  # physical maximum demand when the capacity is unknown
        "residential": 50, "commercial": 2000, "general_industrial": 20000,
        "large_industrial": 500000, "agricultural": 2000, "public": 5000})
    max_robust_z: float = 12  # robust z-score of log kWh above the customer's own median
    min_log_mad: float = 0.25  # floor of the MAD of log kWh (a very flat customer is not hair-triggered)
    min_history_readings: int = 30  # positive readings a customer needs before its history is used
    aggregate_tolerance: float = 0.01  # relative (+ 0.01 kWh) gap allowed between a sum and mean x count
    max_amount: float = 1.0e9  # a bill or payment above this, in any currency, is not credible
    max_abs_value: float = 1.0e15  # no number in a utility's data is larger (world's yearly kWh ~3e13)
    outage_share: float = 0.02  # a region's hour below this share of its median load is an outage (flagged, kept)

    def _check(self) -> None:
        for name in ("capacity_margin", "max_robust_z", "min_log_mad", "max_amount", "max_abs_value", "outage_share"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"'validate.plausibility.{name}' must be above 0, got {getattr(self, name)}")
        if self.min_history_readings < 1:
            raise ConfigError("'validate.plausibility.min_history_readings' must be at least 1, "
                              f"got {self.min_history_readings}")
        if not 0 <= self.aggregate_tolerance < 1:
            raise ConfigError("'validate.plausibility.aggregate_tolerance' must be in [0, 1), "
                              f"got {self.aggregate_tolerance}")
        for cls, kw in self.max_kw_by_class.items():
            if isinstance(kw, bool) or not isinstance(kw, (int, float)) or not kw > 0:
                raise ConfigError(f"'validate.plausibility.max_kw_by_class.{cls}' must be a number above 0, "
                                  f"got {kw!r}")


@dataclasses.dataclass(frozen=True)
class ValidateConfig(Section):
    _path: ClassVar[str] = "validate"

    max_reject_fraction: float = 0.05  # above this share of quarantined rows the stage fails
    plausibility: PlausibilityConfig = PlausibilityConfig()
    customers_per_partition: int = 5000  # bounds memory: the readings of this many customers at a time
    engine: Literal["local", "dask"] = "local"  # where the partitions are validated (powerlens.partitions)

    def _check(self) -> None:
        if self.customers_per_partition < 1:
            raise ConfigError("'validate.customers_per_partition' must be at least 1, "
                              f"got {self.customers_per_partition}")


@dataclasses.dataclass(frozen=True)
class FeaturesConfig(Section):
    _path: ClassVar[str] = "features"

    history_days: int = 365  # look-back window for profile and billing features
    horizon_months: int = 3  # label window after each training cut-off
    n_training_cutoffs: int = 5  # cut-offs every `cutoff_step_months`, latest = data end - horizon
    cutoff_step_months: int = 3
    peak_hours: tuple[int, ...] = (8, 9, 10, 11, 17, 18, 19, 20)
    valley_hours: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 23)
    tou_by_region: Table = _table({})  # {region: {peak_hours: [...], valley_hours: [...]}}
    engine: Literal["local", "dask"] = "local"
    customers_per_partition: int = 20000  # bounds memory
    threads: int = 2  # partitions computed at once by the local engine

    def _check(self) -> None:
        for name in ("peak_hours", "valley_hours"):
            bad = [h for h in getattr(self, name) if not 0 <= h <= 23]
            if bad:
                raise ConfigError(f"'features.{name}' must be hours 0..23, got {bad}")
        for name in ("history_days", "horizon_months", "n_training_cutoffs", "cutoff_step_months",
                     "customers_per_partition", "threads"):
            if getattr(self, name) < 1:
                raise ConfigError(f"'features.{name}' must be at least 1, got {getattr(self, name)}")
        for region, periods in self.tou_by_region.items():
            where = f"features.tou_by_region.{region}"
            if not isinstance(periods, Mapping):
                raise ConfigError(f"'{where}' must be a mapping of peak_hours and valley_hours")
            for key, hours in periods.items():
                if key not in ("peak_hours", "valley_hours"):
                    raise unknown_key(str(key), ["peak_hours", "valley_hours"], f"{where}.")
                if (not isinstance(hours, (list, tuple)) or
                        not all(isinstance(h, int) and not isinstance(h, bool) and 0 <= h <= 23 for h in hours)):
                    raise ConfigError(f"'{where}.{key}' must be a list of hours 0..23, got {hours!r}")


@dataclasses.dataclass(frozen=True)
class BigCustomerConfig(Section):
    """Big customers (大客户) as practice defines them: the default rule, its per-region
    overrides, the power factors that turn measured kW into apparent kVA, and over-contract use
    (see segmentation.value.big_customer_rules)."""

    _path: ClassVar[str] = "segment.big_customer"
    # the keys a region's rule may override, with their types
    _region_keys: ClassVar[dict] = {"min_capacity_kva": (int, float), "min_peak_kw": (int, float, type(None)),
                                    "two_part_tariff_only": (bool,), "min_voltage_kv": (int, float)}

    min_capacity_kva: float = 315  # contracted capacity that makes a big customer
    min_peak_kw: float | None = None  # measured demand (within the contract) that also does; null: capacity only
    two_part_tariff_only: bool = False  # only accounts on the two-part tariff qualify
    min_voltage_kv: float = 10  # supply voltage at least this (an unknown voltage is not held against it)
    # region -> the keys above that differ there (e.g. a developed region: 500 kVA or 400 kW, two-part tariff)
    by_region: Table = _table({"eastport": {"min_capacity_kva": 500, "min_peak_kw": 400, "two_part_tariff_only": True}})
    # power factor when the source has no reactive energy (kvarh_365d): peak kVA = peak kW / power factor
    power_factor_by_class: Table = _table({"residential": 0.95, "commercial": 0.9, "general_industrial": 0.85,
                                           "large_industrial": 0.9, "agricultural": 0.8, "public": 0.9})
    power_factor_default: float = 0.9  # a class not listed above
    over_contract_tolerance: float = 0.1  # apparent peak above capacity x (1 + this): over-contract use

    def _check(self) -> None:
        for region, rule in self.by_region.items():
            where = f"segment.big_customer.by_region.{region}"
            if not isinstance(rule, Mapping):
                raise ConfigError(f"'{where}' must be a mapping of {', '.join(self._region_keys)}")
            for key, value in rule.items():
                if key not in self._region_keys:
                    raise unknown_key(str(key), list(self._region_keys), f"{where}.")
                if not isinstance(value, self._region_keys[key]) or (isinstance(value, bool) and key != "two_part_tariff_only"):
                    raise ConfigError(f"'{where}.{key}' must be {'true or false' if key == 'two_part_tariff_only' else 'a number'}, got {value!r}")
        for cls, pf in {**self.power_factor_by_class, "(default)": self.power_factor_default}.items():
            if isinstance(pf, bool) or not isinstance(pf, int | float) or not 0 < pf <= 1:
                raise ConfigError(f"'segment.big_customer.power_factor_by_class.{cls}' must be a number in (0, 1], got {pf!r}")


@dataclasses.dataclass(frozen=True)
class ValueWeightsConfig(Section):
    """How current- and potential-value criteria are weighted: `manual` (the weights given),
    `entropy` (from the data at the cut-off) or `ahp` (from pairwise judgments "a/b").
    Payment punctuality is a credit criterion (CreditConfig), never a value one."""

    _path: ClassVar[str] = "segment.value_weights"

    method: Literal["manual", "entropy", "ahp"] = "manual"
    current: Table = _table({"revenue_12m": 0.6, "kwh_365d": 0.4})
    potential: Table = _table({"trend_pct_per_year": 0.5, "capacity_increase_requests": 0.3,
                               "new_install": 0.2})
    ahp: Table = _table({
        "current": {"revenue_12m/kwh_365d": 1.5},
        "potential": {"trend_pct_per_year/capacity_increase_requests": 1.5,
                      "trend_pct_per_year/new_install": 3,
                      "capacity_increase_requests/new_install": 2},
    })


@dataclasses.dataclass(frozen=True)
class CreditConfig(Section):
    """The credit score as practice builds it (segmentation.value.credit_scores): payment
    punctuality, arrears relative to the bill, theft history, tenure and, where a source has it,
    operating condition; weighted by the same manual / entropy / AHP choice as value."""

    _path: ClassVar[str] = "segment.credit"

    method: Literal["manual", "entropy", "ahp"] = "manual"
    weights: Table = _table({"payment_punctuality": 0.35, "arrears_to_bill": 0.3, "theft_history": 0.15,
                             "tenure": 0.1, "operating_condition": 0.1})
    ahp: Table = _table({
        "payment_punctuality/arrears_to_bill": 1.5, "payment_punctuality/theft_history": 2,
        "payment_punctuality/tenure": 4, "payment_punctuality/operating_condition": 4,
        "arrears_to_bill/theft_history": 1.5, "arrears_to_bill/tenure": 3, "arrears_to_bill/operating_condition": 3,
        "theft_history/tenure": 2, "theft_history/operating_condition": 2, "tenure/operating_condition": 1,
    })
    arrears_bills_at_zero: float = 2.0  # arrears of this many average bills score 0 on arrears_to_bill
    tenure_years_full: float = 5.0  # tenure scores 1 from this many years
    grade_a_min: float = 0.9  # credit score >= this: grade A
    grade_b_min: float = 0.7  # >= this (below A): grade B; below: C

    def _check(self) -> None:
        if not 0 <= self.grade_b_min <= self.grade_a_min <= 1:
            raise ConfigError(f"'segment.credit.grade_b_min' ({self.grade_b_min}) must be in [0, "
                              f"'segment.credit.grade_a_min' ({self.grade_a_min})] and that at most 1")


@dataclasses.dataclass(frozen=True)
class LatentBigConfig(Section):
    """Latent big customers: small and medium (not big, not residential) customers in the
    quadrant high on both current and potential value (quantiles among those customers)."""

    _path: ClassVar[str] = "segment.latent_big"

    min_current_quantile: float = 0.5  # current value at or above this quantile of the eligible (their median)
    min_potential_quantile: float = 0.8  # potential value at or above this quantile of the eligible

    def _check(self) -> None:
        for key in ("min_current_quantile", "min_potential_quantile"):
            if not 0 <= getattr(self, key) <= 1:
                raise ConfigError(f"'segment.latent_big.{key}' must be a quantile in [0, 1], got {getattr(self, key)!r}")


@dataclasses.dataclass(frozen=True)
class EfficiencyAuditConfig(Section):
    """The efficiency audit of big customers (see industry.efficiency_audit): a load factor under
    the industry's median, priced with the two-part tariff's demand charge."""

    _path: ClassVar[str] = "segment.efficiency_audit"

    demand_charge_per_kw_month: float = 28.0  # what a kW of monthly maximum demand costs
    min_peers: int = 10  # customers of the industry with an hourly load factor for its median to count

    def _check(self) -> None:
        if not self.demand_charge_per_kw_month > 0:
            raise ConfigError("'segment.efficiency_audit.demand_charge_per_kw_month' must be above 0, "
                              f"got {self.demand_charge_per_kw_month}")
        if self.min_peers < 2:
            raise ConfigError(f"'segment.efficiency_audit.min_peers' must be at least 2, got {self.min_peers}")


@dataclasses.dataclass(frozen=True)
class TouOfferConfig(Section):
    """The ToU offer simulation (see tariffs.tou_offer): the share of peak-hour kWh a customer on
    a time-of-use tariff moves to the valley."""

    _path: ClassVar[str] = "segment.tou_offer"

    load_shift: float = 0.15

    def _check(self) -> None:
        if not 0 <= self.load_shift < 1:
            raise ConfigError(f"'segment.tou_offer.load_shift' must be a share in [0, 1), got {self.load_shift!r}")


@dataclasses.dataclass(frozen=True)
class ClusteringConfig(Section):
    """Load-shape clustering (see segmentation.clustering)."""

    _path: ClassVar[str] = "segment.clustering"

    history_days: int = 365  # look-back of the load profiles
    k_min: int = 3
    k_max: int = 8
    seed: int = 7
    sample_size: int = 2000  # customers per shape family each candidate is fitted and judged on
    algorithms: tuple[Literal["kmeans", "gmm", "agglomerative"], ...] = ("kmeans", "gmm", "agglomerative")
    min_coverage: float = 0.8
    min_cluster_share: float = 0.01
    min_family_customers: int = 60
    stability_rounds: int = 5
    stability_candidates: int = 4
    min_stability: float = 0.8
    customers_per_partition: int = 20000  # bounds memory: the look-back readings of this many customers at a time
    # {family: {algorithm, k}}: replay a choice instead of searching (segmentation.replay_params)
    fixed: Table | None = None

    def _check(self) -> None:
        if not 2 <= self.k_min <= self.k_max:
            raise ConfigError(f"'segment.clustering.k_min' ({self.k_min}) must be at least 2 and at most "
                              f"'segment.clustering.k_max' ({self.k_max})")
        if self.customers_per_partition < 1:
            raise ConfigError("'segment.clustering.customers_per_partition' must be at least 1, "
                              f"got {self.customers_per_partition}")


@dataclasses.dataclass(frozen=True)
class SegmentConfig(Section):
    _path: ClassVar[str] = "segment"

    big_customer: BigCustomerConfig = BigCustomerConfig()
    value_weights: ValueWeightsConfig = ValueWeightsConfig()
    potential_share: float = 0.3  # value score = (1 - share) * current + share * potential
    tier_quantiles: tuple[float, ...] = (0.8, 0.5)  # >= 80th percentile high, >= 50th medium, else low
    credit: CreditConfig = CreditConfig()
    latent_big: LatentBigConfig = LatentBigConfig()
    efficiency_audit: EfficiencyAuditConfig = EfficiencyAuditConfig()
    tou_offer: TouOfferConfig = TouOfferConfig()
    clustering: ClusteringConfig = ClusteringConfig()
    # local, or dask (--scheduler ADDRESS, $POWERLENS_DASK_SCHEDULER, else a LocalCluster): where the
    # look-back's partitions are read and summarized (powerlens.partitions); the same segments either way
    engine: Literal["local", "dask"] = "local"


@dataclasses.dataclass(frozen=True)
class SearchConfig(Section):
    """Hyperparameter search inside the validation scheme (see risk.search)."""

    _path: ClassVar[str] = "train.search"

    enabled: bool = True
    n_trials: int = 8  # per family and task (seeded TPE)
    timeout_seconds: float = 30  # a cap per family and task
    cross_validated: bool = False  # one snapshot: no nested search under k-fold
    max_rows: int | None = 15000  # rows a trial fits on (a stratified sample); null: every row
    inner_folds: int = 3
    min_seconds_per_fold: float = 3
    keep_defaults_within_se: float = 1.0  # one-standard-error rule
    by_family: Table = _table({"lightgbm": {"n_trials": 5}, "logistic": {"n_trials": 3}})


@dataclasses.dataclass(frozen=True)
class TrainConfig(Section):
    """Risk models (see risk.train). The hyperparameter mappings are passed to the model
    families as they are; `*_by_task` and `by_source.<format>` override them."""

    _path: ClassVar[str] = "train"

    tasks: tuple[str, ...] = TASKS
    families: tuple[Literal["lightgbm", "logistic", "histgb", "blend"], ...] = (
        "lightgbm", "logistic", "histgb", "blend")
    capacity: Table = _table({"churn": 100, "arrears": 200, "theft": 50})  # per task: list size (precision at k)
    primary_metric: Literal["roc_auc", "pr_auc"] = "roc_auc"  # a ranking metric: the lists are cut at capacity
    promotion_threshold: float = 0.005  # a challenger must beat the champion by this much
    arrears_days_past_due: int = 60
    lift_top_share: float = 0.10
    lightgbm: Table = _table({"n_estimators": 400, "learning_rate": 0.03, "num_leaves": 15, "min_child_samples": 40,
                              "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.6, "reg_lambda": 5.0})
    lightgbm_by_task: Table = _table({"acorn_group": {
        "n_estimators": 1000, "learning_rate": 0.01, "num_leaves": 4, "min_child_samples": 100,
        "colsample_bytree": 0.5, "subsample": 0.7, "reg_lambda": 10.0, "extra_trees": True}})
    logistic: Table = _table({"C": 0.1, "class_weight": "balanced", "transform": "standard"})
    logistic_by_task: Table = _table({"acorn_group": {"transform": "quantile"}})
    histgb: Table = _table({"max_iter": 300, "learning_rate": 0.04, "max_leaf_nodes": 15, "min_samples_leaf": 40,
                            "l2_regularization": 5.0})
    histgb_by_task: Table = _table({"acorn_group": {
        "max_iter": 600, "learning_rate": 0.01, "max_leaf_nodes": 3, "min_samples_leaf": 100,
        "l2_regularization": 10.0, "max_features": 0.5}})
    seed: int = 0
    # families fitted side by side in this many processes (1: one after the other; the same models),
    # when the training rows are at least workers_min_rows (a worker's start-up costs seconds)
    workers: int = 2
    workers_min_rows: int = 20_000
    # a large utility: at most this many training rows (all of the rarer classes, the most common one
    # sampled and weighted to the true base rate; docs/modeling.md); null: every row
    max_training_rows: int | None = 100_000
    cv_folds: int = 5  # one snapshot (labels given by a source): stratified k-fold
    search: SearchConfig = SearchConfig()
    by_source: Table = _table(BY_SOURCE)  # a source's own settings over these (by import format)
    feature_groups_by_task: Table = _table({"acorn_group": ["load_profile", "theft_signal"]})
    exclude_features_by_task: Table = _table({"acorn_group": ["trend_pct_per_year"]})
    derived_features: Table = _table(DERIVED_FEATURES)  # computed inside each model where the columns exist

    def _check(self) -> None:
        if self.max_training_rows is not None and self.max_training_rows < 1000:
            raise ConfigError(f"'train.max_training_rows' must be at least 1000 (or null), got {self.max_training_rows}")
        if not isinstance(self.workers, int) or isinstance(self.workers, bool) or self.workers < 1:
            raise ConfigError(f"'train.workers' must be a whole number >= 1, got {self.workers!r}")
        for task, size in self.capacity.items():
            if task not in TASKS and task not in self.tasks:
                close = difflib.get_close_matches(str(task), TASKS, n=1, cutoff=0.6)
                if close:  # a misspelt task would silently get no capacity
                    raise unknown_key(str(task), list(TASKS), "train.capacity.")
            if not isinstance(size, int) or isinstance(size, bool) or size < 1:
                raise ConfigError(f"'train.capacity.{task}' must be a whole number of accounts >= 1, got {size!r}")


@dataclasses.dataclass(frozen=True)
class ReportConfig(Section):
    _path: ClassVar[str] = "report"

    periods: tuple[str, ...] = ("2026-10",)  # snapshotted and rendered; the last is `powerlens report`'s default
    top_n: int = 20
    min_group_size: int = 10
    language: Literal["en", "zh"] = "en"  # the report's language (`powerlens report --language`)
    currency: str = "CNY"  # the unit the report gives money in (bills are in the utility's currency)

    def _check(self) -> None:
        if not self.currency.strip():
            raise ConfigError("'report.currency' must name the currency the bills are in, e.g. CNY")
        if self.top_n < 1:
            raise ConfigError(f"'report.top_n' must be at least 1, got {self.top_n}")
        if self.min_group_size < 2:  # 1 or less would show single customers in aggregates
            raise ConfigError(f"'report.min_group_size' must be at least 2, got {self.min_group_size}")
        if not self.periods:
            raise ConfigError("'report.periods' must name at least one period (YYYY-MM)")
        for i, period in enumerate(self.periods):
            if not is_period(period):
                raise ConfigError(f"'report.periods[{i}]' must be a month YYYY-MM, got {period!r}")

    @property
    def period(self) -> str:
        """The period `powerlens report` renders unless told: the last of `periods`."""
        return self.periods[-1]


@dataclasses.dataclass(frozen=True)
class ServiceConfig(Section):
    """95598 service KPIs (see service_quality): their targets per region and month; a KPI is
    judged where its row has `min_customers` open accounts or `min_events` events."""

    _path: ClassVar[str] = "service"

    targets: Table = _table({f.name: f.default for f in dataclasses.fields(ServiceTargets)})  # defined there

    def _check(self) -> None:
        from powerlens.errors import InvalidInput

        try:
            ServiceTargets.of(dict(self.targets))
        except InvalidInput as exc:
            raise ConfigError(str(exc)) from None


@dataclasses.dataclass(frozen=True)
class PaymentsConfig(Section):
    """Payment channels (see payment_channels): who still pays at counters, the digital trend."""

    _path: ClassVar[str] = "payments"

    counter_lookback_months: int = 6   # counter payers: their payments in these months before the cut-off ...
    counter_min_share: float = 0.5     # ... at least this share at a counter
    trend_min_payments: int = 20       # a month counts in a group's digital trend with this many payments

    def _check(self) -> None:
        if self.counter_lookback_months < 1:
            raise ConfigError(f"'payments.counter_lookback_months' must be at least 1, got {self.counter_lookback_months}")
        if not 0 < self.counter_min_share <= 1:
            raise ConfigError(f"'payments.counter_min_share' must be in (0, 1], got {self.counter_min_share}")


@dataclasses.dataclass(frozen=True)
class ScoreConfig(Section):
    """The score stage: who gets reason codes with their score (every region's top
    `report.top_n` too, so that a region's report explains its own list)."""

    _path: ClassVar[str] = "score"

    explain_top_share: float = 0.10  # of each task's accounts, highest scores first
    explain_min_accounts: int = 200  # at least this many per task

    def explained(self, n_accounts: int) -> int:
        """How many of a task's top-ranked accounts get reason codes."""
        return max(self.explain_min_accounts, int(self.explain_top_share * n_accounts))


@dataclasses.dataclass(frozen=True)
class RegionalConfig(Section):
    """The regional analysis (powerlens.regional: degree days, weather sensitivity, new-load steps)."""

    _path: ClassVar[str] = "regional"

    heating_base_c: float = 18.0          # heating degree-days: max(0, base - daily mean temperature)
    cooling_base_c: float = 18.0          # cooling degree-days: max(0, daily mean temperature - base)
    sensitivity_window_days: int = 365    # the trailing window of a month's weather regression
    sensitivity_min_days: int = 300       # complete days that window needs
    growth_min_days: int = 20             # complete days both months need for year-on-year growth
    step_window_weeks: int = 4            # weeks compared before and after a candidate step
    step_min_weeks: int = 3               # valid weeks needed on each side
    step_min_share: float = 0.10          # smallest shift of the level, as a share of the level before
    step_sharpness: float = 0.5           # the 7-day jump at the step day must be this share of the shift
    step_min_noise_ratio: float = 7.0     # the shift must be this many times the week-to-week noise


@dataclasses.dataclass(frozen=True)
class ForecastConfig(Section):
    """Load forecasts (powerlens.forecast; docs/forecasting.md)."""

    _path: ClassVar[str] = "forecast"

    family: Literal["lightgbm_global", "vanilla", "seasonal_naive"] = "lightgbm_global"  # `powerlens forecast`'s model
    families: tuple[Literal["seasonal_naive", "vanilla", "statsforecast_mstl", "lightgbm_global"], ...] = (
        "seasonal_naive", "vanilla", "lightgbm_global")  # compared by the backtest (statsforecast_mstl: opt-in)
    reconciliation: Literal["bottom_up", "ols", "wls", "mint_shrink"] = "wls"
    stations_per_region: int = 3          # stations averaged per region when the source maps none
    calibration_weeks: int = 52           # errors of a probe model: interval widths and reconciliation weights
    history_years: float = 3.0            # hours the hourly model learns from
    horizon_hours: int = 168              # the stage's short-term horizon
    horizon_months: int = 12              # the stage's medium-term horizon
    backtest_origins: int = 6             # the stage's rolling origins (every `backtest_step_weeks`, the last
    backtest_step_weeks: int = 4          #   one a horizon before the data's end)
    scenario_shift_days: tuple[int, ...] = (-6, -4, -2, 0, 2, 4, 6)  # shifted-date weather scenarios
    scenario_years: int = 10              # past years drawn as weather scenarios
    monthly_history_years: float = 3.0    # hours the monthly regression learns from
    monthly_level_weeks: int = 52         # the level: actual over fitted load in these weeks before the origin
    monthly_recent_weeks: int = 8         # ... or in these, when they differ by more than
    monthly_step_share: float = 0.10      # this share (a new connection, a lost plant)
    monthly_probe_span_months: int = 24   # monthly intervals from out-of-sample errors: probe origins in these
    monthly_probe_step_months: int = 3    # months before the origin, every so many months,
    monthly_probe_min_history_months: int = 15  # each with this much load before it
    monthly_error_shrink: float = 4.0     # pseudo-probes a region's own error scale is shrunk with
    promotion_threshold: float = 0.0      # skill a challenger must add to the champion's (1 - MAPE / naive MAPE)
    lightgbm: Table = _table({})          # over the global model's defaults (powerlens.forecast.models)
    seed: int = 0

    def _check(self) -> None:
        if not 1 <= self.horizon_hours <= 336:
            raise ConfigError(f"'forecast.horizon_hours' must be 1..336, got {self.horizon_hours}")
        if not 1 <= self.horizon_months <= 12:
            raise ConfigError(f"'forecast.horizon_months' must be 1..12, got {self.horizon_months}")
        if self.family not in self.families:
            raise ConfigError(f"'forecast.family' ({self.family}) must be one of 'forecast.families' "
                              f"({', '.join(self.families)}): the stage backtests the model it uses")
        if self.calibration_weeks < 2 or self.backtest_origins < 1 or self.backtest_step_weeks < 1:
            raise ConfigError("'forecast.calibration_weeks' must be >= 2, backtest_origins and "
                              "backtest_step_weeks >= 1")

    def hourly(self):
        from powerlens.forecast.hourly import HourlySettings

        return HourlySettings(family=self.family, reconciliation=self.reconciliation,
                              calibration_weeks=self.calibration_weeks, history_years=self.history_years,
                              scenario_shift_days=tuple(self.scenario_shift_days),
                              scenario_years=self.scenario_years, lightgbm=dict(self.lightgbm), seed=self.seed)

    def monthly(self):
        from powerlens.forecast.monthly import MonthlySettings

        return MonthlySettings(history_years=self.monthly_history_years, level_weeks=self.monthly_level_weeks,
                               recent_weeks=self.monthly_recent_weeks, step_share=self.monthly_step_share,
                               scenario_shift_days=tuple(self.scenario_shift_days),
                               scenario_years=self.scenario_years, probe_span_months=self.monthly_probe_span_months,
                               probe_step_months=self.monthly_probe_step_months,
                               probe_min_history_months=self.monthly_probe_min_history_months,
                               error_shrink=self.monthly_error_shrink)


@dataclasses.dataclass(frozen=True)
class Config:
    """All of params.yaml, typed. `cfg.features.horizon_months`, `cfg.train.tasks`..."""

    generate: GenerateConfig = GenerateConfig()
    data: DataConfig = DataConfig()
    validate: ValidateConfig = ValidateConfig()
    features: FeaturesConfig = FeaturesConfig()
    segment: SegmentConfig = SegmentConfig()
    train: TrainConfig = TrainConfig()
    score: ScoreConfig = ScoreConfig()
    report: ReportConfig = ReportConfig()
    service: ServiceConfig = ServiceConfig()
    payments: PaymentsConfig = PaymentsConfig()
    regional: RegionalConfig = RegionalConfig()
    forecast: ForecastConfig = ForecastConfig()

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, coerce(getattr(self, f.name), hints[f.name], f.name))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, origin: str = "params.yaml") -> Config:
        """The config from params.yaml's mapping; errors are ConfigErrors prefixed by `origin`."""
        try:
            data = {} if data is None else data
            if not isinstance(data, Mapping):
                raise ConfigError(f"the file must hold a mapping of sections, got {type(data).__name__}")
            check_keys(cls, data, "")
            return cls(**data)
        except ConfigError as exc:
            raise ConfigError(f"{origin}: {exc}") from None

    def as_dict(self) -> dict[str, Any]:
        """Every section as plain dicts, defaults filled in (what the stages read and MLflow logs)."""
        return {f.name: getattr(self, f.name).as_dict() for f in dataclasses.fields(self)}

    def replace(self, section: str, **changes: Any) -> Config:
        """A new config with keys of one section changed, checked like params.yaml:
        `cfg.replace("features", threads=4)`."""
        names = [f.name for f in dataclasses.fields(self)]
        if section not in names:
            raise unknown_key(section, names, "")
        return dataclasses.replace(self, **{section: getattr(self, section).replace(**changes)})


def load_config(path: str | Path | None = None) -> Config:
    """Read params.yaml (default: at the project root) into a typed, frozen Config."""
    path = Path(path) if path else project_root() / "params.yaml"
    if not path.is_file():
        raise ConfigError(f"params file not found: {path}")
    return Config.from_dict(read_yaml(path, ConfigError), origin=path.name)


def load_params(path: str | Path | None = None) -> dict[str, Any]:
    """params.yaml as nested plain dicts with every default filled in (`load_config().as_dict()`);
    checked like load_config."""
    return load_config(path).as_dict()


def flatten(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted keys for logging (`train.lightgbm.num_leaves`), as DVC names them."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def write_json(path: str | Path, data: dict) -> None:
    """Small JSON files (metrics, manifests), stable key order so reruns diff cleanly; written
    atomically (powerlens.atomic), so a kill never leaves half a file."""
    from powerlens.atomic import write_json as _write

    _write(path, data)
