"""statsforecast's AutoARIMA on a few series, for `powerlens bench forecast` (a standalone script:
statsforecast needs pandas < 3, so it runs in its own environment that `uv run --isolated --with
statsforecast` builds; powerlens is not importable there and this file imports none of it).

    python autoarima_worker.py IN.parquet OUT.json HORIZON SEASON

IN: columns unique_id, ds, y (each series' history before its origin). OUT: seconds of the
warm-up (the first series: numba compiles), seconds of the rest, and the forecasts."""

import json
import sys
import time

import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoARIMA


def main() -> None:
    source, target, horizon, season = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    frame = pd.read_parquet(source)
    ids = list(dict.fromkeys(frame["unique_id"]))
    out = {"series": len(ids), "forecasts": []}
    timings = []
    for uid in ids:
        one = frame[frame["unique_id"] == uid]
        start = time.perf_counter()
        f = StatsForecast(models=[AutoARIMA(season_length=season)], freq="h", n_jobs=1).forecast(df=one, h=horizon)
        timings.append(time.perf_counter() - start)
        out["forecasts"].append({"unique_id": uid, "ds": f["ds"].astype(str).tolist(), "yhat": f["AutoARIMA"].tolist()})
    out["warmup_seconds"] = timings[0]
    out["seconds"] = timings[1:]
    with open(target, "w") as fh:
        json.dump(out, fh)


if __name__ == "__main__":
    main()
