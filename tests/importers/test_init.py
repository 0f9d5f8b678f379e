"""import_source: the registry of formats, and malformed files thrown at every importer: truncated rows, wrong types, bad encodings, shuffled
and missing columns, empty files, huge values. None may end in an uncaught exception: each ends
in a clean import whose quarantine reconciles, or in ImportFailed whose message names a file.
A clean source must import (a refusal fails the test), every written float is finite and
plausible, and a huge value in a numeric column quarantines its row."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from powerlens.importers import FORMATS, ImportFailed, import_source
from powerlens.importers.utility_export import ImportFailed as LegacyImportFailed


def test_registry_and_import_failed_is_shared(small_raw, key, tmp_path):
    assert set(FORMATS) == {"synthetic", "lcl", "powerco", "credit-history", "csv", "gefcom2012"}
    assert LegacyImportFailed is ImportFailed
    with pytest.raises(ImportFailed, match="unknown source format"):
        import_source("xml", tmp_path, tmp_path / "o", key)
    summary = import_source("synthetic", small_raw, tmp_path / "syn", key)
    assert summary["reconciled"] and json.loads((tmp_path / "syn" / "validation.json").read_text())["rows_in"]


SETTINGS = settings(max_examples=int(os.environ.get("POWERLENS_PROPERTY_EXAMPLES", "25")), deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


KINDS = ["truncate", "drop_column", "shuffle_columns", "cells", "bad_bytes", "empty", "header_only",
         "extra_field", "huge", "none"]


NASTY = ["1e400", "-1", "9" * 40, "", "NaN", "inf", "-inf", "2014-13-45", "9999-12-31", "Null", '"', ",",
         "t", "MISSING", "0x1F", "1,5", "１２", "\u00a0", "2014/1/1 25:00"]


def _lcl(src: Path) -> list[str]:
    days = pd.date_range("2013-01-01", periods=12).strftime("%Y-%m-%d")
    ids = ["MAC000001", "MAC000002", "MAC000003"]
    rng = np.random.default_rng(1)
    daily = pd.DataFrame({"LCLid": np.repeat(ids, len(days)), "day": np.tile(days, len(ids))})
    total = rng.uniform(2, 20, len(daily)).round(3)
    daily["energy_median"] = (total / 48).round(3)
    daily["energy_mean"] = total / 48  # the aggregates agree, as in the real files
    daily["energy_max"] = (total / 48 * 2).round(3)
    daily["energy_std"] = rng.uniform(0, 1, len(daily)).round(3)
    daily["energy_min"] = (total / 48 * 0.5).round(3)
    daily["energy_count"] = 48
    daily["energy_sum"] = total
    daily.to_csv(src / "daily_dataset.csv", index=False)
    pd.DataFrame({"LCLid": ids, "stdorToU": ["Std", "ToU", "Std"], "Acorn": ["ACORN-A", "ACORN-E", "ACORN-Q"],
                  "Acorn_grouped": ["Affluent", "Comfortable", "Adversity"], "file": "block_0"}) \
        .to_csv(src / "informations_households.csv", index=False)
    pd.DataFrame({"temperatureMax": [5.0, 6.0], "temperatureMin": [1.0, 2.0],
                  "time": ["2013-01-01 00:00:00", "2013-01-02 00:00:00"]}).to_csv(src / "weather_daily_darksky.csv", index=False)
    pd.DataFrame({"Bank holidays": ["2013-01-01"], "Type": ["New Year"]}).to_csv(src / "uk_bank_holidays.csv", index=False)
    return ["daily_dataset.csv", "informations_households.csv", "weather_daily_darksky.csv", "uk_bank_holidays.csv"]


def _powerco(src: Path) -> list[str]:
    n = 12
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"id": [f"{i:032x}" for i in range(n)],
                       "channel_sales": rng.choice(["foosdfpfkusacimwkcsosbicdxkicaua", "MISSING"], n),
                       "cons_12m": rng.integers(0, 10**5, n), "date_activ": "2012-03-01", "date_end": "2016-03-01",
                       "date_modif_prod": "2014-01-01", "date_renewal": "2015-03-01",
                       "forecast_price_energy_peak": rng.choice([0.0, 0.1], n), "has_gas": rng.choice(["t", "f"], n),
                       "origin_up": "lxidpiddsbxsbosboudacockeimpuepw", "pow_max": rng.uniform(5, 60, n).round(2),
                       "churn": rng.integers(0, 2, n)})
    df.to_csv(src / "client_data.csv", index=False)
    return ["client_data.csv"]


def _credit(src: Path) -> list[str]:
    n = 10
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"ID": np.arange(1, n + 1), "LIMIT_BAL": rng.integers(1, 50, n) * 10_000})
    for c in ("PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6"):
        df[c] = rng.integers(-2, 4, n)
    for k in range(1, 7):
        df[f"BILL_AMT{k}"] = rng.integers(-500, 50_000, n)
    for k in range(1, 7):
        df[f"PAY_AMT{k}"] = rng.integers(0, 5_000, n)
    df["defaulted"] = rng.integers(0, 2, n)
    df.to_csv(src / "credit_default.csv", index=False)
    return ["credit_default.csv"]


def _csv(src: Path) -> list[str]:
    pd.DataFrame({"户号": ["A1", "A2", "A3"], "户名": ["张三", "李四", "王五"], "类别": ["居民", "商业", "居民"],
                  "立户日期": ["2012-01-01", "2013-01-01", "2011-01-01"]}).to_csv(src / "客户.csv", index=False, encoding="gbk")
    theft = pd.DataFrame({"CONS_NO": ["A1", "A2", "A3"], "FLAG": ["1", "0", "0"]})
    for d in range(1, 8):
        theft[f"2014/1/{d}"] = ["1.5", "", "2"]
    theft.to_csv(src / "theft.csv", index=False, encoding="utf-8-sig")
    pd.DataFrame({"户号": ["A1", "A2"], "账单": ["B1", "B2"], "年月": ["201401", "201401"], "金额": ["10", "20"],
                  "截止": ["2014-02-20", "2014-02-20"]}).to_csv(src / "账单.csv", index=False, encoding="gbk")
    (src / "mapping.yaml").write_text(
        "encoding: gbk\n"
        "tables:\n"
        "  customers:\n    file: 客户.csv\n    columns: {户号: customer_id, 类别: customer_class, 立户日期: start_date}\n"
        "    values: {customer_class: {居民: residential, 商业: commercial}}\n    identifiers: [户名]\n"
        "  readings:\n    file: theft.csv\n    encoding: utf-8\n    layout: wide\n    columns: {CONS_NO: customer_id}\n"
        "    date_format: '%Y/%m/%d'\n    label: {column: FLAG, task: theft}\n"
        "  bills:\n    file: 账单.csv\n    columns: {户号: customer_id, 账单: bill_id, 年月: period, 金额: amount, 截止: due_date}\n",
        encoding="utf-8")
    return ["客户.csv", "theft.csv", "账单.csv", "mapping.yaml"]


BUILDERS = {"lcl": _lcl, "powerco": _powerco, "credit-history": _credit, "csv": _csv}


ENCODING = {"客户.csv": "gbk", "账单.csv": "gbk"}


# the source columns each importer reads as numbers: a huge value there must quarantine its row
NUMERIC_COLUMNS = {
    "daily_dataset.csv": {"energy_sum", "energy_max", "energy_min", "energy_mean", "energy_count"},
    "weather_daily_darksky.csv": {"temperatureMax", "temperatureMin"},
    "client_data.csv": {"cons_12m", "pow_max", "forecast_price_energy_peak"},
    "credit_default.csv": {"LIMIT_BAL", "PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6",
                           *(f"BILL_AMT{k}" for k in range(1, 7)), *(f"PAY_AMT{k}" for k in range(1, 7))},
    "账单.csv": {"金额"},
    "theft.csv": {f"2014/1/{d}" for d in range(1, 8)},
}
HUGE = ["1e400", "9" * 60, "-" + "9" * 30, "1e-400"]
MAX_ABS_VALUE = 1e15  # validate.plausibility.max_abs_value


def corrupt(path: Path, kind: str, rng: np.random.Generator, values: list[str]) -> dict[tuple[int, str], str]:
    """Break one file the way real exports break; returns the cells set by `cells` / `huge`
    ((data row, column) -> value)."""
    data = path.read_bytes()
    enc = ENCODING.get(path.name, "utf-8-sig")
    placed: dict[tuple[int, str], str] = {}
    if kind == "none":
        return placed
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncate":
        path.write_bytes(data[: int(rng.integers(0, max(len(data), 1)))])
    elif kind == "bad_bytes":
        pos = int(rng.integers(0, max(len(data), 1)))
        path.write_bytes(data[:pos] + b"\xff\xfe\x80\x00" + data[pos:])
    elif kind == "header_only":
        path.write_bytes(data.split(b"\n")[0] + b"\n")
    elif kind == "extra_field":
        lines = data.split(b"\n")
        i = int(rng.integers(1, max(len(lines) - 1, 2)))
        if i < len(lines):
            lines[i] += b",x,y"
        path.write_bytes(b"\n".join(lines))
    elif path.suffix == ".yaml":
        path.write_bytes(data[: len(data) // 2] + values[0].encode("utf-8", "replace") + b": [\n")
    else:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc)
        if kind == "drop_column" and len(df.columns):
            df = df.drop(columns=df.columns[int(rng.integers(0, len(df.columns)))])
        elif kind == "shuffle_columns":
            df = df[list(rng.permutation(df.columns))]
        elif kind in ("cells", "huge") and len(df) and len(df.columns):
            pool = values if kind == "cells" else HUGE
            for v in pool:
                row, col = int(rng.integers(0, len(df))), int(rng.integers(0, len(df.columns)))
                df.iat[row, col] = v
                placed[(row, str(df.columns[col]))] = v
        try:
            df.to_csv(path, index=False, encoding=enc)
        except UnicodeEncodeError:
            df.to_csv(path, index=False, encoding=enc, errors="replace")
    return placed


def run_one(fmt: str, key: bytes, target: int, kind: str, seed: int, values: list[str],
            reject: float) -> dict | None:
    """Import one (possibly broken) sample source; the summary, or None for a clean refusal of a
    broken source. A refusal of the clean source fails."""
    tmp = Path(tempfile.mkdtemp(prefix=f"prop_{fmt}_"))
    try:
        src, out = tmp / "src", tmp / "out"
        src.mkdir()
        files = BUILDERS[fmt](src)
        name = files[target % len(files)]
        placed = corrupt(src / name, kind, np.random.default_rng(seed), values)
        try:
            summary = import_source(fmt, src, out, key, max_reject_fraction=reject)
        except ImportFailed as exc:
            message = str(exc)
            if kind == "none":
                pytest.fail(f"the clean {fmt} sample was refused: {message}")
            assert "\n" not in message.strip(), message
            assert any(f in message for f in files) or str(src) in message, message
            return None
        assert summary["reconciled"]
        for table, rep in summary["tables"].items():
            assert rep["rows_in"] == rep["accepted"] + rep["quarantined"], table
            qfile = out / "quarantine" / f"{table}.parquet"
            if rep["quarantined"]:
                q = pd.read_parquet(qfile)
                assert len(q) == rep["quarantined"] and q["reason"].notna().all()
                assert q["source_line"].notna().all() and q["source_file"].notna().all()
            else:
                assert not qfile.exists()
        assert (out / "validation.json").exists()
        for table, n in summary["written"].items():
            written = pd.read_parquet(out / f"{table}.parquet")
            assert len(written) == n
            for col in written.select_dtypes("number").columns:  # finite and plausible, whatever came in
                v = written[col].to_numpy(dtype=float)
                v = v[~np.isnan(v)]
                assert np.isfinite(v).all() and (np.abs(v) <= MAX_ABS_VALUE).all(), (table, col, v.max())
        if kind == "huge":
            _assert_huge_rows_quarantined(out, name, placed)
        return summary
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _assert_huge_rows_quarantined(out: Path, name: str, placed: dict[tuple[int, str], str]) -> None:
    """Every huge value put in a column the importer reads as a number quarantined its row,
    with a reason, at its source file and line (a CSV's data row r is line r + 2)."""
    numeric = NUMERIC_COLUMNS.get(name, set())
    must = {row + 2 for (row, col), v in placed.items() if col in numeric and v != "1e-400"}
    if not must:
        return
    parts = [pd.read_parquet(f) for f in (out / "quarantine").glob("*.parquet")]
    q = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["reason", "source_file", "source_line"])
    lines = set(q.loc[q["source_file"].astype(str).str.contains(name, regex=False), "source_line"].astype(int))
    assert must <= lines, f"{name}: huge values on lines {sorted(must - lines)} were not quarantined"
    assert q["reason"].notna().all() and q["reason"].astype(str).ne("").all()


case = st.tuples(
    st.integers(0, 3),
    st.sampled_from(KINDS),
    st.integers(0, 2**32 - 1),
    st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=10)), min_size=1, max_size=4),
    st.sampled_from([0.05, 1.0]),
)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", sorted(BUILDERS))
@SETTINGS
@given(c=case)
def test_malformed_sources_fail_cleanly_or_reconcile(fmt, key, c):
    target, kind, seed, values, reject = c
    run_one(fmt, key, target, kind, seed, values, reject)


@pytest.mark.parametrize("fmt", sorted(BUILDERS))
def test_clean_sample_sources_import(fmt, key):
    """The property test's base sources are themselves clean: they import (a refusal fails) and
    nothing is quarantined."""
    summary = run_one(fmt, key, 0, "none", 0, [""], 0.0)
    assert summary is not None and summary["quarantined"] == 0 and summary["written"]["customers"] > 0


@pytest.mark.parametrize("fmt", sorted(BUILDERS))
@pytest.mark.parametrize("target", range(4))
def test_huge_values_are_quarantined_never_written(fmt, key, target, tmp_path):
    """`"9" * 60` would be inf at a float32 cast and pass ge(0): each huge value in a numeric
    column quarantines its row (the source is not refused), every written float is finite and
    plausible. Targets are the data files (a mapping YAML holds no numbers to break)."""
    names = BUILDERS[fmt](tmp_path)
    data_files = [i for i, n in enumerate(names) if not str(n).endswith((".yaml", ".yml"))]
    target = data_files[target % len(data_files)]
    for seed in range(3):
        summary = run_one(fmt, key, target, "huge", seed, [""], 1.0)
        assert summary is not None, f"{fmt}: a source with one huge value was refused instead of quarantining it"
