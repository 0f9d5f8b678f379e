"""Results must not depend on the pseudonym key nor on the clean tables' row order.

A fresh clone creates a new key, so every customer id (an HMAC of the account number) and
every order by customer id change. The same raw export imported with two keys, and once more
with the clean tables' rows shuffled, must give the same features (up to the customer ids),
the same segment sizes and the same model metrics."""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

KEYS = {"a": b"a" * 32, "b": b"b" * 32}
# LightGBM's row subsampling (bagging) follows row positions: the family that showed the key
# (logistic and histgb at this size do not; without search, ~65 s on 2 cores for all three runs)
FAMILIES = ["logistic", "histgb", "lightgbm"]
TASKS = ("churn", "arrears")


def _shuffle_tables(clean) -> None:
    for path in sorted(clean.glob("*.parquet")):
        table = pd.read_parquet(path)
        table.sample(frac=1.0, random_state=7).reset_index(drop=True).to_parquet(path, index=False)


def _pipeline(raw, work, key: bytes, shuffle: bool) -> dict:
    """Import, features, segments at the scoring cut-off, both derived tasks' families."""
    from powerlens import features as F
    from powerlens.config import load_config
    from powerlens.importers.utility_export import import_utility_export
    from powerlens.jobs import features as features_job
    from powerlens.jobs.common import features_manifest
    from powerlens.risk import labels
    from powerlens.risk.train import fit_and_compare
    from powerlens.segmentation import read_look_back, segment

    cfg = load_config()
    clean, out = work / "clean", work / "features"
    import_utility_export(raw, clean, key, 0.05)
    if shuffle:
        _shuffle_tables(clean)
    features_job.run(cfg.features, data=clean, out=out, echo=lambda message: None)
    manifest = features_manifest(out)
    all_feats = pd.read_parquet(out / "features.parquet")

    scoring = pd.Timestamp(manifest["scoring_cutoff"])
    feats = all_feats[all_feats["as_of"] == scoring].reset_index(drop=True)
    params = cfg.segment.as_dict()
    look_back = read_look_back(clean, pd.Index(feats["customer_id"]), scoring, params["clustering"]["history_days"])
    seg, _, seg_metrics = segment(feats, look_back, params)

    train = cfg.train.as_dict()
    cutoffs = [pd.Timestamp(t) for t in manifest["training_cutoffs"]]
    rows = all_feats[all_feats["as_of"].isin(cutoffs)].reset_index(drop=True)
    data = F.load_clean(clean, with_readings=False)
    metrics = {}
    for task in TASKS:
        y = labels.derive(task, data, rows, int(cfg.features.horizon_months), train["arrears_days_past_due"])
        result = fit_and_compare(task, rows, y, train, families=FAMILIES, search=False)
        metrics[task] = {f: {m: fr.metrics[m] for m in ("roc_auc", "pr_auc")} for f, fr in result.families.items()}
    return {"features": all_feats, "segments": seg, "segment_metrics": seg_metrics, "metrics": metrics}


@pytest.fixture(scope="module")
def runs(small_raw, tmp_path_factory) -> dict:
    return {name: _pipeline(small_raw, tmp_path_factory.mktemp(f"determinism-{name}"), KEYS[key], shuffle)
            for name, key, shuffle in (("a", "a", False), ("b", "b", False), ("b_shuffled", "b", True))}


OTHERS = ["b", "b_shuffled"]


def test_the_keys_give_other_customer_ids(runs):
    ids_a = set(runs["a"]["features"]["customer_id"].astype(str))
    assert not ids_a & set(runs["b"]["features"]["customer_id"].astype(str))


@pytest.mark.parametrize("other", OTHERS)
def test_features_are_written_in_the_same_order_up_to_the_ids(runs, other):
    a, b = (runs[n]["features"].drop(columns="customer_id") for n in ("a", other))
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9)


@pytest.mark.parametrize("other", OTHERS)
def test_segment_sizes_do_not_depend_on_the_key(runs, other):
    a, b = runs["a"]["segments"], runs[other]["segments"]
    for col in ("value_tier", "credit_grade", "load_shape", "load_shape_family", "big_customer",
                "latent_big_customer"):
        assert a[col].value_counts().sort_index().to_dict() == b[col].value_counts().sort_index().to_dict(), col
    assert runs["a"]["segment_metrics"]["load_shape_families"] == runs[other]["segment_metrics"]["load_shape_families"]


@pytest.mark.parametrize("other", OTHERS)
def test_model_metrics_do_not_depend_on_the_key(runs, other):
    a, b = runs["a"]["metrics"], runs[other]["metrics"]
    assert set(a) == set(b) == set(TASKS)
    for task in TASKS:
        assert set(a[task]) == set(b[task]) and set(FAMILIES) <= set(a[task])
        for family, values in a[task].items():
            for metric, value in values.items():
                assert b[task][family][metric] == pytest.approx(value, abs=1e-12), (task, family, metric)
