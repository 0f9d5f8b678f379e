"""The report job outside DVC: a snapshot that is missing or was made from other inputs is
computed again before the render; one that is current is reused."""

from __future__ import annotations

import pandas as pd
import pytest

from powerlens.config import load_config
from powerlens.jobs import snapshot
from powerlens.paths import DataPaths
from support import PERIOD, ROOT, build_data


def test_a_snapshot_is_stale_when_its_inputs_or_settings_change(tmp_path):
    data = DataPaths(build_data(tmp_path / "data"))
    cfg, playbook = load_config(ROOT / "params.yaml"), ROOT / "playbook.yaml"
    assert snapshot.stale_periods([PERIOD], cfg, data=data, playbook=playbook) == [PERIOD]  # none yet
    snapshot.run([PERIOD], cfg, data=data, playbook=playbook, echo=lambda _m: None)
    assert snapshot.stale_periods([PERIOD], cfg, data=data, playbook=playbook) == []
    # the same data with another privacy threshold: the snapshot's suppression no longer fits
    stricter = cfg.replace("report", min_group_size=20)
    assert snapshot.stale_periods([PERIOD], stricter, data=data, playbook=playbook) == [PERIOD]
    # re-imported bills
    bills = pd.read_parquet(data.clean / "bills.parquet")
    bills.iloc[:-1].to_parquet(data.clean / "bills.parquet")
    assert snapshot.stale_periods([PERIOD], cfg, data=data, playbook=playbook) == [PERIOD]


def test_without_a_playbook_it_snapshots_and_a_malformed_playbook_is_one_line(tmp_path):
    from powerlens.errors import InvalidInput
    from powerlens.snapshots import load_snapshot

    data = DataPaths(build_data(tmp_path / "data"))
    cfg = load_config(ROOT / "params.yaml")
    result = snapshot.run([PERIOD], cfg, data=data, playbook=tmp_path / "no_playbook.yaml", echo=lambda _m: None)
    assert "error" not in result[PERIOD]
    snap = load_snapshot(data.snapshot_dir(PERIOD))
    assert snap.plan.empty and snap.actions is None and len(snap.scores) > 0
    broken = tmp_path / "broken.yaml"
    broken.write_text("tiers: [unclosed\n")
    with pytest.raises(InvalidInput, match=r"broken.yaml: not valid YAML \(line 2\)"):
        snapshot.run([PERIOD], cfg, data=data, playbook=broken, echo=lambda _m: None)


def test_a_failing_period_is_isolated_and_a_bug_keeps_its_traceback(tmp_path, monkeypatch):
    from powerlens.errors import InvalidInput
    from powerlens.snapshots import build

    data = DataPaths(build_data(tmp_path / "data"))
    cfg = load_config(ROOT / "params.yaml")
    real = build.build_snapshot

    def flaky(period, *args, **kwargs):
        if period == "2026-08":
            raise InvalidInput("no bills in 2026-08")
        if period == "2026-09":
            return {}["bug"]
        return real(period, *args, **kwargs)

    monkeypatch.setattr(build, "build_snapshot", flaky)
    result = snapshot.run(["2026-08", "2026-09", "2026-10"], cfg, data=data, playbook=ROOT / "playbook.yaml",
                          echo=lambda _m: None, isolate=True)
    assert result["2026-08"] == {"error": "no bills in 2026-08"}
    assert result["2026-09"]["error"] == "KeyError: 'bug'" and "Traceback" in result["2026-09"]["traceback"]
    assert "error" not in result["2026-10"] and (data.snapshot_dir("2026-10") / "manifest.json").exists()
    with pytest.raises(InvalidInput):  # not isolated: the first failure stops the run
        snapshot.run(["2026-08"], cfg, data=data, playbook=ROOT / "playbook.yaml", echo=lambda _m: None)
