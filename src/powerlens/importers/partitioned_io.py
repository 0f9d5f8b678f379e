"""The readings of an import, partition by partition: the routed rows of each partition spilled
to a private folder until it is validated (`Spill`), and a canonical readings file written a
partition at a time (`ReadingsWriter`). Memory is bounded by a partition, not by the export."""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from powerlens.atomic import remove_leftovers
from powerlens.schema import check

# rows of routed pieces held in memory before the largest partitions' are written out: a piece
# file per batch and partition would make their number grow with rows x partitions (the square
# of the customers), each file a fixed cost; buffering makes the files few and large, in bounded memory
SPILL_BUFFER_ROWS = 8 << 20


class Spill:
    """Each partition's rows of each readings table, as routed: pickled pieces in a private
    folder (removed at the end), or in memory when there is one partition. Routed rows wait in
    a buffer of at most `buffer_rows` rows; when it is full, the partitions with the most rows
    waiting are written out, each as one piece, until half of it is free."""

    def __init__(self, out: Path, in_memory: bool, buffer_rows: int = SPILL_BUFFER_ROWS) -> None:
        self.out, self.in_memory, self.buffer_rows = Path(out), in_memory, buffer_rows
        self.pieces: dict[tuple[str, int], list] = {}
        self.waiting: dict[tuple[str, int], list[pd.DataFrame]] = {}
        self.waiting_rows: dict[tuple[str, int], int] = {}
        self.folder: Path | None = None

    def __enter__(self) -> Spill:
        # beside the output folder, named as powerlens.atomic names its temporary files, so what a
        # killed import left is found and removed by the next one
        remove_leftovers(self._target)
        return self

    @property
    def _target(self) -> Path:
        return self.out.parent / f"{self.out.name}.spill"

    def __exit__(self, *exc) -> None:
        self.pieces.clear()
        self.waiting.clear()
        self.waiting_rows.clear()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def add(self, table: str, part: int, piece: pd.DataFrame) -> None:
        key = (table, part)
        if self.in_memory:
            self.pieces.setdefault(key, []).append(piece)
            return
        self.waiting.setdefault(key, []).append(piece)
        self.waiting_rows[key] = self.waiting_rows.get(key, 0) + len(piece)
        if sum(self.waiting_rows.values()) > self.buffer_rows:
            # the fullest first: the fewest, largest files
            for fullest in sorted(self.waiting_rows, key=lambda k: (-self.waiting_rows[k], k)):
                if sum(self.waiting_rows.values()) <= self.buffer_rows // 2:
                    break
                self._write(fullest)

    def _write(self, key: tuple[str, int]) -> None:
        """The rows of a partition waiting in the buffer, in the order they came, as one piece file."""
        waiting = self.waiting.pop(key)
        del self.waiting_rows[key]
        piece = pd.concat(waiting, ignore_index=True) if len(waiting) > 1 else waiting[0]
        pieces = self.pieces.setdefault(key, [])
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix=f".{self._target.name}.tmp-{os.getpid()}-",
                                                dir=self.out.parent.resolve()))  # absolute: a Dask worker reads it
        path = self.folder / f"{key[0]}-{key[1]:06d}-{len(pieces):06d}.pkl"
        with open(path, "wb") as fh:
            pickle.dump(piece, fh, protocol=pickle.HIGHEST_PROTOCOL)
        pieces.append(path)

    def pop(self, table: str, part: int) -> list:
        """The partition's pieces of a table (frames, or the files they were spilled to, its rows
        still waiting written out first), handed over: `load` reads them."""
        if (table, part) in self.waiting:
            self._write((table, part))
        return self.pieces.pop((table, part), [])

    @staticmethod
    def load(pieces: list | None, in_memory: bool, part_ids: pd.Index, first_rank: int) -> pd.DataFrame | None:
        """A partition's rows in the file's order, `customer_id` as categories of its ids (None
        when it has none); its spill files are removed once read."""
        if not pieces:
            return None
        if not in_memory:
            loaded = []
            for path in pieces:
                with open(path, "rb") as fh:
                    loaded.append(pickle.load(fh))  # pieces this import wrote just now, in its own folder
                Path(path).unlink()
            pieces = loaded
        frame = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0].reset_index(drop=True)
        rank = frame.pop("_rank").to_numpy()
        codes = np.where(rank >= 0, rank - first_rank, -1)
        frame["customer_id"] = pd.Categorical.from_codes(codes, categories=part_ids)
        return frame


class ReadingsWriter:
    """A canonical readings file written partition by partition (in customer order) into the
    temporary file of an `atomic_file`, which takes the file's place when the import succeeds."""

    def __init__(self, tmp: Path, table: str) -> None:
        self.tmp, self.table = Path(tmp), table
        self.writer = None
        self.schema = None
        self.rows_written = 0
        self.empty: pd.DataFrame | None = None

    def append(self, ok: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        check(self.table, ok)
        if not len(ok):
            self.empty = ok
            return
        data = pa.Table.from_pandas(ok, preserve_index=False)
        if self.writer is None:  # customer ids: one dictionary type whatever a partition's size
            fields = [f.with_type(pa.dictionary(pa.int32(), pa.string())) if f.name == "customer_id" else f
                      for f in data.schema]
            self.schema = pa.schema(fields, metadata=data.schema.metadata)
            self.writer = pq.ParquetWriter(self.tmp, self.schema)
        self.writer.write_table(data.cast(self.schema), row_group_size=ROW_GROUP_ROWS)
        self.rows_written += len(ok)

    def finish(self) -> None:
        """Close the file (an empty table: write its empty frame, typed as validated)."""
        if self.writer is None:
            self.empty.to_parquet(self.tmp, index=False)
        self.close()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


ROW_GROUP_ROWS = 1 << 20  # pyarrow's default, as pandas writes a whole table
