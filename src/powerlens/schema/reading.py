"""Reading canonical tables: a whole table, or the rows of a range of customers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from powerlens.schema.tables import empty_table


def read_table(data_dir: str | Path, table: str, columns: list[str] | None = None,
               filters=None) -> pd.DataFrame:
    """Read one canonical table (an empty frame when the source has none)."""
    path = Path(data_dir) / f"{table}.parquet"
    if not path.exists():
        return empty_table(table, columns)
    return pd.read_parquet(path, columns=columns, filters=filters)


def read_table_if_present(data_dir: str | Path, table: str) -> pd.DataFrame | None:
    """One canonical table, read whole; None when the source has none (an optional table such
    as `tariffs`, where absent means "unknown", not "empty")."""
    path = Path(data_dir) / f"{table}.parquet"
    return pd.read_parquet(path) if path.exists() else None


def read_customer_range(data_dir: str | Path, table: str, first_id: str, last_id: str,
                        columns: list[str] | None = None, as_arrow: bool = False):
    """Rows of one canonical table whose customer_id is in [first_id, last_id], reading only the
    row groups whose statistics overlap the range. (pyarrow's dataset filters do not prune with
    statistics of dictionary-encoded columns, which readings are, so a filter would scan the file.)"""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    path = Path(data_dir) / f"{table}.parquet"
    if not path.exists():
        empty = empty_table(table, columns)
        return pa.Table.from_pandas(empty, preserve_index=False) if as_arrow else empty
    pf = pq.ParquetFile(path)
    meta = pf.metadata
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    if "customer_id" not in names:
        return pq.read_table(path, columns=columns) if as_arrow else pd.read_parquet(path, columns=columns)
    idx = names.index("customer_id")
    inside, boundary = [], []  # row groups wholly inside the range need no row filter
    for g in range(meta.num_row_groups):
        stats = meta.row_group(g).column(idx).statistics
        if stats is None or not stats.has_min_max:
            boundary.append(g)
        elif stats.min >= first_id and stats.max <= last_id:
            inside.append(g)
        elif stats.min <= last_id and stats.max >= first_id:
            boundary.append(g)
    parts = [pf.read_row_groups(inside, columns=columns, use_pandas_metadata=True)] if inside else []
    for g in boundary:
        group = pf.read_row_group(g, columns=columns, use_pandas_metadata=True)
        masks = []
        for chunk in group.column("customer_id").chunks:
            values = chunk.dictionary if pa.types.is_dictionary(chunk.type) else chunk
            keep = pc.and_(pc.greater_equal(values, first_id), pc.less_equal(values, last_id))
            masks.append(pc.take(keep, chunk.indices) if pa.types.is_dictionary(chunk.type) else keep)
        parts.append(group.filter(pa.chunked_array(masks, type=pa.bool_())))
    if not parts:
        parts = [pf.schema_arrow.empty_table().select(columns or pf.schema_arrow.names)]
    data = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    return data if as_arrow else data.to_pandas()
