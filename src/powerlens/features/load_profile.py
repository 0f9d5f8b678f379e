"""Load-profile indicators from readings, on dense customers x time matrices.

The code lives in three modules by role; this one keeps their names importable from one place:

- `features.series`: readings pivoted into `SeriesMatrix` (customers x days / hours), daily energy
  derived from interval readings;
- `features.daily`: indicators one value per day supports (level, trend, variability, seasonal
  and weekly shape, theft signals, absence, weather sensitivity);
- `features.intraday`: indicators interval readings support (load factor, peak/valley, ToU
  shares, peak kW...), or a daily table's smallest and largest interval, and hour profiles.
"""

from __future__ import annotations

from powerlens.features.daily import (
    AWAY_BELOW,
    AWAY_MIN_DAYS,
    COOLING_BASE_C,
    HEATING_BASE_C,
    HIGH_ABOVE,
    MIN_JUDGED_DAYS,
    USUAL_MIN_DAYS,
    USUAL_WINDOW_DAYS,
    _count_runs,
    absence_features,
    daily_features,
    daily_shape,
    temperature_matrix,
    weather_features,
)
from powerlens.features.intraday import (
    EXTREME_COLUMNS,
    EXTREME_INDICATORS,
    daily_extreme_features,
    daily_extremes,
    hourly_features,
    hourly_shape,
    tou_masks,
)
from powerlens.features.series import (
    SeriesMatrix,
    daily_from_hourly,
    to_matrix,
    with_daily_from_hourly,
)

__all__ = [
    "SeriesMatrix", "to_matrix", "daily_from_hourly", "with_daily_from_hourly",
    "daily_features", "absence_features", "daily_shape", "weather_features", "temperature_matrix",
    "tou_masks", "hourly_features", "daily_extremes", "daily_extreme_features", "hourly_shape",
    "EXTREME_COLUMNS", "EXTREME_INDICATORS", "USUAL_WINDOW_DAYS", "USUAL_MIN_DAYS", "AWAY_BELOW",
    "AWAY_MIN_DAYS", "HIGH_ABOVE", "MIN_JUDGED_DAYS", "HEATING_BASE_C", "COOLING_BASE_C", "_count_runs",
]
