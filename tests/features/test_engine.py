"""The partitioned feature engine (local and Dask)."""

import pandas as pd
import pytest

from powerlens import features as F
from powerlens.features.engine import build_features, data_end_of, plan_partitions

CUTOFFS = [pd.Timestamp("2026-05-01"), pd.Timestamp("2026-11-01")]


@pytest.fixture(scope="module")
def local_partitioned(small_clean):
    return build_features(small_clean, CUTOFFS, {}, profile_cutoff=CUTOFFS[-1], customers_per_partition=150)


def test_partitions_cover_every_customer_once():
    parts = plan_partitions([f"c{i:03d}" for i in range(10)][::-1] + ["c003"], 4)
    assert [p.n_customers for p in parts] == [4, 4, 2]
    assert parts[0].first_id == "c000" and parts[0].last_id == "c003" and parts[-1].last_id == "c009"


def test_partitioned_local_engine_equals_the_whole_table_build(small_clean, small_data, local_partitioned):
    feats, profiles = local_partitioned
    whole = pd.concat([F.build(small_data, c) for c in CUTOFFS], ignore_index=True)
    whole = whole.sort_values(["as_of", "customer_id"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(feats, whole)
    expected = F.profile_matrix(small_data, CUTOFFS[-1]).sort_index()
    pd.testing.assert_frame_equal(profiles, expected, check_names=False)


def test_two_partitions_at_once_give_the_same_features(small_clean, local_partitioned):
    feats, profiles = build_features(small_clean, CUTOFFS, {}, profile_cutoff=CUTOFFS[-1], threads=2,
                                     customers_per_partition=150)
    pd.testing.assert_frame_equal(feats, local_partitioned[0])
    pd.testing.assert_frame_equal(profiles, local_partitioned[1])


@pytest.mark.slow
def test_dask_engine_gives_identical_features(small_clean, local_partitioned):
    feats, profiles = build_features(small_clean, CUTOFFS, {}, profile_cutoff=CUTOFFS[-1], engine="dask",
                                     customers_per_partition=150)
    pd.testing.assert_frame_equal(feats, local_partitioned[0])
    pd.testing.assert_frame_equal(profiles, local_partitioned[1])


def test_unknown_engine_and_unreachable_scheduler_are_clear_errors(small_clean):
    with pytest.raises(ValueError, match="unknown engine 'spark'"):
        build_features(small_clean, CUTOFFS, {}, engine="spark")
    with pytest.raises(RuntimeError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        build_features(small_clean, CUTOFFS, {}, engine="dask", scheduler="tcp://127.0.0.1:9",
                       scheduler_timeout=2)


def test_data_end_from_parquet_statistics_matches_the_loaded_data(small_clean, small_data):
    assert data_end_of(small_clean) == small_data.data_end
