"""A period's snapshot on disk: `data/snapshots/<period>/`, one parquet file per table and a
manifest. `load_snapshot` is the one public loader: the report notebook and exploratory
notebooks read what the pipeline made through it (pandas only; nothing is computed here)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from powerlens.errors import MissingInput

# every table a snapshot holds, and what it is
TABLES = {
    "features": "customer features at the period's cut-off (open accounts)",
    "segments": "value tier, credit grade, big / latent big, load shape per customer, with region",
    "segments_previous": "the same a month earlier (for migration)",
    "profiles": "mean normalized load profile per load shape with its 10-90% band",
    "clustering_candidates": "the load-shape clusterings the segment stage compared",
    "scores": "risk score, rank and reason codes per customer and task, with region",
    "plan": "the action plan: customer, action, rank, priority, reasons, holdout, region",
    "actions": "the playbook's actions: capacity, ranking, outcome, description",
    "tier_strategies": "the playbook's strategy and why for every value tier x credit grade",
    "review": "last period's plan against what happened since, per region (ALL_REGIONS = the utility)",
    "review_readings": "one reading per reviewed action and region",
    "kpis": "monthly KPIs of the 12 months up to the period, per region (ALL_REGIONS = the utility)",
    "pareto": "the Pareto curve of 12-month revenue per region",
    "pareto_summary": "billed customers and the top 20%'s revenue share per region",
    "model_comparison": "validation metrics of every model family per task (last training)",
    "model_sources": "which model scored each task at the cut-off and what it learned from",
    "drift": "per task: mean score last period and now, population stability index",
    "big_customer_changes": "accounts entering and leaving the big-customer list since the previous cut-off, why",
    "industry": "per industry: customers, kWh, growth, load factor, peak share, kWh per kVA (small ones without figures)",
    "industry_peers": "each big customer's percentiles among its industry's customers",
    "efficiency_audit": "big customers under their industry's median load factor, by estimated annual saving",
    "service_kpis": "95598 service KPIs per month of the 12 up to the period, region and value tier ('all': the region)",
    "rectification": "the period's KPIs that break their target (region, month, KPI, value, target)",
    "rectification_follow_up": "last period's rectification items checked in this period: closed or still open",
    "payment_channel_shift": "per month, region and class: payments and their digital and counter shares",
    "payment_channel_trend": "per region and class: the digital share first and last, and its change per year",
    "counter_payers": "open accounts that mostly paid at a counter lately: e-payment campaign targets",
    # the regional section (only when the data has region_load and the stages ran; see snapshots.regional)
    "regional_monthly": "the regional stage's months that ended by the cut-off, per region and `total`",
    "regional_summary": "per region: last 12 months' energy, peak, load factor, line loss, growth, theft scores",
    "regional_steps": "the new-load steps (step changes of a region's load) seen by the cut-off",
    "regional_sales": "kWh per region x customer class, last 12 months and the 12 before",
    "forecast_hourly": "the hourly forecasts made by the cut-off, with the load that happened (actual)",
    "forecast_accuracy": "per region and origin: hours, MAPE, bias and 80% interval coverage",
    "forecast_monthly": "the 12-month outlook: monthly energy and peak per region with 80% intervals",
    "forecast_outlook": "per region: last 12 months against the next 12, with the growth and steps behind it",
    "forecast_backtest": "the forecast models' rolling-origin backtest (one row per variant)",
}
ALL_REGIONS = "__all__"  # the rows of the whole utility (no region of the data can be named so)


@dataclass
class Snapshot:
    """A loaded snapshot: `manifest` (period, cutoff, previous_cutoff, notes, regions,
    decisions...) and one DataFrame per table in TABLES (None when the snapshot lacks it)."""

    folder: Path
    manifest: dict[str, Any]
    tables: dict[str, pd.DataFrame | None] = field(default_factory=dict)

    def __getattr__(self, name: str) -> pd.DataFrame | None:
        if name in TABLES:
            return self.tables.get(name)
        raise AttributeError(name)

    @property
    def period(self) -> str:
        return self.manifest["period"]

    @property
    def cutoff(self) -> pd.Timestamp:
        return pd.Timestamp(self.manifest["cutoff"])

    @property
    def previous_cutoff(self) -> pd.Timestamp:
        return pd.Timestamp(self.manifest["previous_cutoff"])


def write_snapshot(folder: Path, tables: dict[str, pd.DataFrame | None], manifest: dict[str, Any]) -> Path:
    """Write the tables (None ones are left out) and manifest.json into `folder`, replacing it
    whole (`powerlens.atomic.atomic_dir`): written into a staging folder beside it and moved
    into place, so a crash never leaves a folder that looks complete. The staging leftovers of
    an earlier, killed write are deleted first."""
    from powerlens.atomic import atomic_dir, remove_leftovers

    unknown = set(tables) - set(TABLES)
    if unknown:
        raise ValueError(f"not snapshot tables: {', '.join(sorted(unknown))}")
    folder = Path(folder)
    remove_leftovers(folder)
    manifest = {**manifest, "tables": sorted(n for n, t in tables.items() if t is not None)}
    with atomic_dir(folder) as staging:
        for name, table in tables.items():
            if table is not None:
                table.to_parquet(staging / f"{name}.parquet", index=False)
        # the manifest last: a folder without it is never read as a snapshot
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n",
                                               encoding="utf-8")
    return folder


@contextmanager
def snapshots_lock(snapshots: Path) -> Iterator[None]:
    """One process at a time computes snapshots in a data folder (two `powerlens report` of the
    same period at once: the second waits, then finds the snapshot current)."""
    import fcntl

    snapshots = Path(snapshots)
    snapshots.mkdir(parents=True, exist_ok=True)
    with open(snapshots / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """A snapshot's manifest, or None when the folder holds no snapshot."""
    path = Path(folder) / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def snapshot_exists(folder: Path) -> bool:
    return (Path(folder) / "manifest.json").exists()


def load_snapshot(folder: str | Path, tables: list[str] | None = None) -> Snapshot:
    """Read a snapshot folder (`data/snapshots/<period>`); `tables` limits what is read."""
    folder = Path(folder)
    if not snapshot_exists(folder):
        raise MissingInput(f"no snapshot at {folder}: run `powerlens snapshot --period {folder.name}` "
                           "(or `dvc repro`) first")
    manifest = read_manifest(folder)
    wanted = tables or list(TABLES)
    loaded = {name: pd.read_parquet(folder / f"{name}.parquet") if (folder / f"{name}.parquet").exists() else None
              for name in wanted}
    return Snapshot(folder, manifest, loaded)
