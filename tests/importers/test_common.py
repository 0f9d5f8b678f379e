"""What every importer shares: reading a source file through a mapping."""

from __future__ import annotations

import pytest

from powerlens.importers import ImportFailed


def test_a_mapping_that_renames_onto_an_existing_column_is_refused_by_name(tmp_path):
    from powerlens.importers._common import read_source

    (tmp_path / "client_data.csv").write_text("id,client_id,churn\na,b,0\n")
    (tmp_path / "map.yaml").write_text("columns:\n  client_id: id\n")
    with pytest.raises(ImportFailed, match="client_data.csv: the mapping's column renames give duplicate column"):
        read_source(tmp_path, tmp_path / "map.yaml", None, ["client_data.csv"], ["id"])
    path, raw, opts, _ = read_source(tmp_path, None, None, ["client_data.csv"], ["id"])
    assert path.name == "client_data.csv" and list(raw.columns[:3]) == ["id", "client_id", "churn"]
