"""The report job outside DVC: a snapshot that is missing or was made from other inputs is
computed again before the render; one that is current is reused."""

from __future__ import annotations

import pandas as pd

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


def test_a_failing_period_is_isolated_with_its_reason(tmp_path):
    data = DataPaths(build_data(tmp_path / "data"))
    cfg = load_config(ROOT / "params.yaml")
    result = snapshot.run(["2026-10", "2026-09"], cfg, data=data, playbook=tmp_path / "no_playbook.yaml",
                          echo=lambda _m: None, isolate=True)
    assert set(result) == {"2026-10", "2026-09"} and not any("error" in r for r in result.values())
    broken = tmp_path / "broken.yaml"
    broken.write_text("tiers: [unclosed\n")
    from powerlens.errors import InvalidInput

    try:
        snapshot.run(["2026-10"], cfg, data=data, playbook=broken, echo=lambda _m: None)
    except InvalidInput as exc:
        assert "broken.yaml" in str(exc) and "line" in str(exc)
    else:
        raise AssertionError("a malformed playbook must be refused")
