"""A small utility's load and weather, made here: three regions with daily and weekly cycles,
heating and cooling, growth, and a new connection in one region."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

REGIONS = ("east", "north", "west")


def make_tables(weeks: int = 80, seed: int = 3, start: str = "2023-01-02") -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    hours = pd.date_range(start, periods=weeks * 168, freq="h")
    days = pd.date_range(start, periods=weeks * 7, freq="D")
    doy = days.dayofyear.to_numpy()
    temp_daily = 12 - 10 * np.cos(2 * np.pi * (doy - 15) / 365) + rng.normal(0, 2.5, len(days))
    weather, load = [], []
    for i, region in enumerate(REGIONS):
        t_region = temp_daily + i - 1
        weather.append(pd.DataFrame({"date": days, "region": region, "temperature_mean": t_region.round(1)}))
        t = np.repeat(t_region, 24)
        hour, weekday = hours.hour.to_numpy(), hours.weekday.to_numpy()
        shape = 1 + 0.3 * np.sin(2 * np.pi * (hour - 7) / 24) - 0.15 * (weekday >= 5)
        weather_kw = 40 * np.maximum(0, 15 - t) + 60 * np.maximum(0, t - 21)
        base = (1000 + 500 * i) * (1 + 0.04 * np.arange(len(hours)) / 8760)
        kw = base * shape + weather_kw + rng.normal(0, 25, len(hours))
        if region == "north":  # a new connection 10 weeks before the end
            kw[hours >= hours[-1] - pd.Timedelta(weeks=10)] += 400
        load.append(pd.DataFrame({"region": region, "ts": hours, "load_kw": kw.round(1), "outage": False}))
    return {"region_load": pd.concat(load, ignore_index=True), "weather_daily": pd.concat(weather, ignore_index=True),
            "weather_hourly": None, "weather_stations": None, "calendar": None}


@pytest.fixture(scope="session")
def load_tables() -> dict[str, pd.DataFrame]:
    return make_tables()


@pytest.fixture(scope="session")
def load_folder(tmp_path_factory):
    """Two years and four months of the tables as an imported folder (parquet), for the stage (a
    monthly backtest needs a year before its origin) and the command."""
    folder = tmp_path_factory.mktemp("load")
    for name, frame in make_tables(weeks=120).items():
        if frame is not None:
            frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder
