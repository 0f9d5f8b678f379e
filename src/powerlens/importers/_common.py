"""What every real-format importer shares: reading a file into text columns with its source
line numbers, refusing unreadable files with one line, aggregating sub-hourly readings, and
writing the canonical tables, the quarantine and validation.json."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from powerlens.anonymize import identifier_columns
from powerlens.atomic import write_parquet
from powerlens.importers.errors import ImportFailed
from powerlens.schema import CANONICAL_FILES, Quarantine, check, write_summary

Progress = Callable[[str], None] | None
DATA_SUFFIXES = (".parquet", ".csv", ".csv.gz", ".txt", ".tsv")


def quiet(progress: Progress) -> Callable[[str], None]:
    return progress or (lambda msg: None)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def locate(src: Path, file_names: Iterable[str]) -> Path:
    """The source file: `src` itself, or the first of `file_names` inside the folder `src`."""
    file_names = tuple(file_names)
    if src.is_file():
        return src
    if src.is_dir():
        for name in file_names:
            if (src / name).exists():
                return src / name
        raise ImportFailed(f"{src}: no {' or '.join(file_names)}")
    raise ImportFailed(f"{src}: no such file or folder")


def is_data_file(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and any(name.endswith(s) for s in DATA_SUFFIXES)


def read_table_file(path: Path, required: Iterable[str] = (), encoding: str = "utf-8",
                    delimiter: str | None = None, categorical: Iterable[str] = (),
                    columns: list[str] | None = None) -> pd.DataFrame:
    """Read a CSV (plain or gzip) or parquet file as text columns with a `_line` column.

    CSV values stay text (typing is the validator's job, so a bad value quarantines one row
    instead of failing the file); blank lines are kept as empty rows so `_line` is the true
    line in the file. `categorical` columns are read as categories (ids, days: few distinct
    values over millions of rows). Anything unreadable raises ImportFailed naming the file."""
    path = Path(path)
    name = path.name
    try:
        if name.lower().endswith(".parquet"):
            df = _read_parquet(path, categorical, columns)
            first = 1
        else:
            enc = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
            sep = delimiter or ("\t" if name.lower().endswith(".tsv") else None)
            dtype = _dtype_map(path, enc, sep, categorical) if categorical else str
            df = pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[""],
                             encoding=enc, sep=sep or ",", skip_blank_lines=False,
                             usecols=(lambda c: c in columns) if columns else None,
                             compression="infer", on_bad_lines="error", engine="c")
            first = 2
    except ImportFailed:
        raise
    except UnicodeDecodeError as exc:
        raise ImportFailed(f"{name}: cannot be decoded as {encoding} ({first_line(exc)})") from None
    except pd.errors.EmptyDataError:
        raise ImportFailed(f"{name}: the file is empty (no header row)") from None
    except (ValueError, OSError, EOFError, LookupError, TypeError, IndexError, KeyError,
            pd.errors.ParserError, csv.Error) as exc:
        raise ImportFailed(f"{name}: cannot be read ({first_line(exc)})") from None
    except Exception as exc:  # pyarrow and zlib errors have no common base class
        raise ImportFailed(f"{name}: cannot be read ({type(exc).__name__}: {first_line(exc)})") from None
    df.columns = [str(c).strip() for c in df.columns]
    if len(set(df.columns)) != len(df.columns):
        dup = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
        raise ImportFailed(f"{name}: duplicate column(s) {', '.join(dup)}")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ImportFailed(f"{name}: missing column(s) {', '.join(missing)}")
    df["_line"] = np.arange(first, first + len(df), dtype=np.int64)
    return df


def _dtype_map(path: Path, enc: str, sep: str | None, categorical: Iterable[str]) -> dict:
    """Every column as text except the categorical ones (header read first)."""
    header = pd.read_csv(path, nrows=0, encoding=enc, sep=sep or ",", compression="infer")
    cats = set(categorical)
    return {str(c): ("category" if str(c).strip() in cats else str) for c in header.columns}


def _read_parquet(path: Path, categorical: Iterable[str], columns: list[str] | None) -> pd.DataFrame:
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    cols = [c for c in names if columns is None or c in columns]
    table = pq.read_table(path, columns=cols, read_dictionary=[c for c in categorical if c in cols])
    df = table.to_pandas()
    for col in categorical:
        if col in df and not isinstance(df[col].dtype, pd.CategoricalDtype):
            df[col] = df[col].astype("string").astype("category")
    return df


def read_yaml(path: Path) -> dict:
    """A mapping file, read with the project's safe loader and YAML 1.2 booleans
    (powerlens.errors.yaml_loader)."""
    import yaml

    from powerlens.errors import yaml_loader

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
        data = yaml.load(text, Loader=yaml_loader()) or {}  # noqa: S506 - a SafeLoader subclass
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ImportFailed(f"{Path(path).name}: cannot read the mapping ({first_line(exc)})") from None
    if not isinstance(data, dict):
        raise ImportFailed(f"{Path(path).name}: the mapping must be a YAML mapping (key: value)")
    return data


def read_source(src: str | Path, mapping: str | Path | None, progress, file_names: Iterable[str],
                required: Iterable[str] = ()) -> tuple[Path, pd.DataFrame, dict, Callable[[str], None]]:
    """The one table of a single-file source: (its path, its text columns with `_line`, renamed
    by the mapping's `columns` and checked for the `required` ones, the mapping's options, the
    progress callback)."""
    step = quiet(progress)
    opts = read_yaml(Path(mapping)) if mapping else {}
    path = locate(Path(src), file_names)
    step(f"reading {path.name}")
    raw = read_table_file(path)
    raw = raw.rename(columns={str(k): str(v) for k, v in (opts.get("columns") or {}).items()})
    if raw.columns.duplicated().any():
        dup = sorted(set(raw.columns[raw.columns.duplicated()]))
        raise ImportFailed(f"{path.name}: the mapping's column renames give duplicate column(s) {', '.join(dup)}")
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise ImportFailed(f"{path.name}: missing column(s) {', '.join(missing)}")
    return path, raw, opts, step


def drop_identifiers(df: pd.DataFrame, keep: Iterable[str] = ()) -> tuple[pd.DataFrame, list[str]]:
    """Drop columns whose names say they are direct identifiers (names, phones, addresses)."""
    keep = set(keep) | {"_line"}
    drop = [c for c in identifier_columns(df.columns) if c not in keep]
    return df.drop(columns=drop), drop


def pseudonymize_categorical(key: bytes, ids: pd.Series) -> pd.Series:
    """Keyed pseudonyms for a categorical id column, hashing each category once (millions of
    readings, thousands of customers); blank ids become missing."""
    from powerlens.anonymize import pseudonymize

    ids = ids if isinstance(ids.dtype, pd.CategoricalDtype) else ids.astype("string").astype("category")
    cats = pd.Series(ids.cat.categories.astype(str))
    blank = cats.str.strip().eq("")
    pseudo = pseudonymize(key, cats.where(~blank))
    uniques = pd.Index(pseudo.dropna().unique().astype(str))
    new_code = uniques.get_indexer(pseudo.fillna("").astype(str).to_numpy())
    codes = ids.cat.codes.to_numpy()
    mapped = np.where(codes >= 0, new_code[np.maximum(codes, 0)] if len(new_code) else -1, -1)
    return pd.Series(pd.Categorical.from_codes(mapped, categories=uniques), index=ids.index)


def to_hourly(accepted: pd.DataFrame, per_hour: int) -> pd.DataFrame:
    """Sum accepted sub-hourly readings into hours (what the load-profile features read);
    `n_intervals` says how many of the `per_hour` intervals were present, so a partial hour
    is flagged (`partial_hour`), not hidden."""
    hour = accepted["ts"].dt.floor("h")
    g = accepted.assign(ts=hour).groupby(["customer_id", "ts"], observed=True, sort=True)["kwh"]
    out = g.agg(kwh="sum", n_intervals="size").reset_index()
    out["kwh"] = out["kwh"].astype("float32")
    out["n_intervals"] = out["n_intervals"].astype("int16")
    out["partial_hour"] = out["n_intervals"] < per_hour
    return out


def to_daily(accepted: pd.DataFrame, per_day: int) -> pd.DataFrame:
    """Daily totals of accepted interval readings, in the layout of an LCL daily aggregate
    (`kwh_min_interval`, `kwh_max_interval`, `n_intervals`, `partial_day`)."""
    day = accepted["ts"].dt.floor("D")
    g = accepted.assign(ts=day).groupby(["customer_id", "ts"], observed=True, sort=True)["kwh"]
    out = g.agg(kwh="sum", kwh_min_interval="min", kwh_max_interval="max", n_intervals="size").reset_index()
    for col in ("kwh", "kwh_min_interval", "kwh_max_interval"):
        out[col] = out[col].astype("float32")
    out["n_intervals"] = out["n_intervals"].astype("int16")
    out["partial_day"] = out["n_intervals"] < per_day
    return out


def typed_if_empty(df: pd.DataFrame) -> pd.DataFrame:
    """An empty table has no values to infer types from: give text columns the string dtype
    and dates microsecond resolution, so an empty (all quarantined) table still passes its
    schema and reads back with the types a full one has."""
    if len(df):
        return df
    df = df.copy()
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].astype("str")
        elif pd.api.types.is_datetime64_any_dtype(df[col]):
            df[col] = df[col].astype("datetime64[us]")
    return df


def finish(out: Path, q: Quarantine, tables: dict[str, pd.DataFrame], max_reject_fraction: float,
           step: Callable[[str], None], fmt: str, notes: dict | None = None,
           as_of: pd.Timestamp | None = None) -> dict:
    """Refuse a source with too many rejects; otherwise check and write every table, the
    quarantine and validation.json, and remove canonical files a previous import left that
    this source does not have (e.g. labels from a source that had a label column).

    `as_of` is the date the source describes (a snapshot's date), written to validation.json:
    a folder without readings, bills or labels (new customers to score) is dated by it."""
    summary = q.summary()
    if summary["reject_fraction"] > max_reject_fraction:
        top = sorted(((n, f"{t}: {code}") for t, r in q.reports.items() for code, n in r.reasons.items()),
                     reverse=True)[:3]
        sources = ", ".join(sorted({r.source_file for r in q.reports.values() if r.quarantined}))
        raise ImportFailed(
            f"{sources}: {summary['quarantined']} of {summary['rows_in']} rows rejected "
            f"({summary['reject_fraction']:.1%} > {max_reject_fraction:.1%}); top reasons: "
            + ", ".join(f"{name} ({n})" for n, name in top)
        )
    step("writing canonical tables")
    out.mkdir(parents=True, exist_ok=True)
    # validation.json is written last and says the import finished: the previous one goes first
    (out / "validation.json").unlink(missing_ok=True)
    for table, df in list(tables.items()):
        tables[table] = df = typed_if_empty(df)
        check(table, df)
    for name in CANONICAL_FILES:
        stale = out / f"{name}.parquet"
        if name not in tables and stale.exists():
            stale.unlink()
    for table, df in tables.items():
        write_parquet(df, out / f"{table}.parquet")
    q.write(out)
    summary["format"] = fmt
    if as_of is not None:
        summary["as_of"] = str(pd.Timestamp(as_of).date())
    summary["written"] = {t: int(len(tables[t])) for t in sorted(tables)}
    summary["problems"] = q.problem_lines()
    if notes:
        summary["notes"] = notes
    write_summary(out, summary)
    return summary
