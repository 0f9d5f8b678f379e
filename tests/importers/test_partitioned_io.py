"""The spill of routed readings: bounded buffer, few files, every row back in its order."""

import numpy as np
import pandas as pd

from powerlens.importers.partitioned_io import Spill


def _piece(rows: np.ndarray, part: int) -> pd.DataFrame:
    return pd.DataFrame({"ts": rows * 10, "kwh": rows / 4, "_line": rows, "_rank": np.full(len(rows), part)})


def test_spilled_pieces_come_back_in_their_order_in_few_files_with_a_bounded_buffer(tmp_path):
    rng = np.random.default_rng(3)
    line = 0
    sent: dict[int, list[int]] = {p: [] for p in range(4)}
    adds = 0
    with Spill(tmp_path / "clean", in_memory=False, buffer_rows=40) as spill:
        for _ in range(30):  # batches, each spread over the partitions as an unsorted file is
            part = rng.integers(0, 4, size=12)
            rows = np.arange(line, line + len(part))
            line += len(part)
            for p in np.unique(part):
                spill.add("readings_hourly", int(p), _piece(rows[part == p], int(p)))
                sent[int(p)].extend(rows[part == p].tolist())
                adds += 1
                assert sum(spill.waiting_rows.values()) <= 40
        files = sum(len(v) for v in spill.pieces.values())
        assert files < adds / 2  # buffered: far fewer files than routed pieces
        for p in range(4):
            pieces = spill.pop("readings_hourly", p)
            back = Spill.load(pieces, False, pd.Index([f"c{p}"]), first_rank=p)
            assert back["_line"].tolist() == sent[p]  # every row, in the order it came
            assert (back["customer_id"] == f"c{p}").all()
            assert not any(path.exists() for path in pieces)  # read once, removed
        assert not spill.waiting and not spill.pieces
