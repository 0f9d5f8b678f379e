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


def test_every_float_column_must_be_finite():
    """ge(0) alone lets inf through ("9" * 40 is inf once cast to float32): the schemas and
    the check of a source's extra float columns refuse it."""
    import numpy as np

    from powerlens.schema import ValidationFailed, check

    with np.errstate(over="ignore"):  # the overflow the importers must never let through
        kwh = pd.Series(["1", "9" * 40]).astype(float).to_numpy().astype("float32")
    readings = pd.DataFrame({"customer_id": pd.Categorical(["a", "b"]),
                             "ts": pd.to_datetime(["2020-01-01", "2020-01-02"]).astype("datetime64[us]"),
                             "kwh": kwh})
    assert np.isinf(readings["kwh"]).any()
    with pytest.raises(ValidationFailed, match="kwh: .*infinite"):
        check("readings_daily", readings)
    check("readings_daily", readings.assign(kwh=np.float32(1.0)))
    bills = pd.DataFrame({"customer_id": ["a"], "bill_id": ["b"], "period": ["2020-01"], "kwh": [np.nan],
                          "amount": [1.0], "due_date": pd.to_datetime(["2020-02-01"]).astype("datetime64[us]"),
                          "credit_balance": [np.inf]})
    with pytest.raises(ValidationFailed, match="credit_balance"):
        check("bills", bills)
    check("bills", bills.assign(credit_balance=0.0))  # NaN kWh is allowed: nullable, not infinite
    with pytest.raises(ValidationFailed, match="amount"):
        check("bills", bills.assign(credit_balance=0.0, amount=np.inf))


def test_region_load_and_weather_hourly_schemas_refuse_impossible_values():
    import numpy as np

    from powerlens.schema import LOAD_KW_CAP, ValidationFailed, check, empty_table

    ts = pd.to_datetime(["2020-01-01 00:00", "2020-01-01 01:00"]).astype("datetime64[us]")
    load = pd.DataFrame({"region": ["zone_1", "zone_1"], "ts": ts, "load_kw": [10.0, 0.0], "outage": [False, True]})
    check("region_load", load)
    for bad, match in ((load.assign(load_kw=[10.0, -1.0]), "load_kw"), (load.assign(load_kw=[10.0, np.inf]), "load_kw"),
                       (load.assign(load_kw=[10.0, LOAD_KW_CAP * 2]), "load_kw"),
                       (load.assign(ts=ts[[0, 0]]), "region_load breaks its schema")):
        with pytest.raises(ValidationFailed, match=match):
            check("region_load", bad)
    weather = pd.DataFrame({"station": ["1", "1"], "ts": ts, "temperature_c": [-5.0, 20.0]})
    check("weather_hourly", weather)
    with pytest.raises(ValidationFailed, match="temperature_c"):
        check("weather_hourly", weather.assign(temperature_c=[-5.0, 75.0]))
    assert list(empty_table("region_load").columns) == ["region", "ts", "load_kw", "outage"]
    check("weather_stations", pd.DataFrame({"station": ["1"], "region": ["zone_1"]}))
