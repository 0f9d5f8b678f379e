"""Canonical tables read back by customer range."""

import pandas as pd
import pytest


@pytest.mark.slow
def test_a_customer_range_reads_the_same_rows_and_types_as_a_filtered_full_read(small_clean):
    from powerlens.schema import CANONICAL_FILES, read_customer_range, read_table

    ids = sorted(read_table(small_clean, "customers")["customer_id"])
    first, last = ids[100], ids[250]
    for table in CANONICAL_FILES:
        full = read_table(small_clean, table)
        if "customer_id" not in full:
            continue
        inside = full["customer_id"].astype(str).between(first, last)
        part = read_customer_range(small_clean, table, first, last)
        assert len(part) == int(inside.sum()) > 0 or table in ("labels", "calendar", "weather_daily")
        pd.testing.assert_frame_equal(part.reset_index(drop=True), full[inside.to_numpy()].reset_index(drop=True),
                                      check_categorical=False)
