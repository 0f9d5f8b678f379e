"""statsforecast's MSTL (AutoETS trend) as a forecast family, served from its own environment
(statsforecast needs pandas < 3: `uv run --isolated --with statsforecast` builds it; powerlens is
not importable there and this file imports none of it).

A long-lived worker: each line on stdin is a JSON request {"source": IN.parquet, "target":
OUT.parquet, "horizon": H}; IN has columns unique_id, ds, y (each series' recent history before
one origin); the worker writes OUT (unique_id, ds, yhat) and answers one line, "ok" or "error: ...".
"""

import json
import sys

import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import MSTL, AutoETS


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        try:
            frame = pd.read_parquet(request["source"])
            model = MSTL(season_length=[24, 168], trend_forecaster=AutoETS(model="ZZN"))
            out = StatsForecast(models=[model], freq="h", n_jobs=1).forecast(df=frame, h=int(request["horizon"]))
            out = out.reset_index() if "unique_id" not in out.columns else out
            out.rename(columns={"MSTL": "yhat"})[["unique_id", "ds", "yhat"]].to_parquet(request["target"], index=False)
            print("ok", flush=True)
        except Exception as exc:  # the caller raises it with the worker's words
            print(f"error: {type(exc).__name__}: {exc}".replace("\n", " "), flush=True)


if __name__ == "__main__":
    main()
