"""Period snapshots: everything a period's report shows, computed by the pipeline.

`load_snapshot(folder)` is the public loader (light: pandas only). The computation lives in
`snapshots.build` (what a snapshot holds), `snapshots.state` (the utility at a cut-off) and
`snapshots.kpis`; the `snapshot` job writes `data/snapshots/<period>/`.
"""

from powerlens.snapshots.store import ALL_REGIONS, TABLES, Snapshot, load_snapshot, snapshot_exists

__all__ = ["ALL_REGIONS", "TABLES", "Snapshot", "load_snapshot", "snapshot_exists"]
