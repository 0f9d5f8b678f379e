"""The regional analysis' names, columns, parameters and result (see the package docstring)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

TOTAL = "total"
HOURS_PER_DAY = 24

MONTHLY_COLUMNS = [
    "region", "month", "energy_kwh", "energy_kwh_scaled", "hours_observed", "hours_missing", "complete",
    "peak_kw", "peak_ts", "mean_kw", "load_factor", "peak_valley_difference_rate", "outage_hours",
    "coincident_peak_kw", "coincident_peak_share", "heating_degree_days", "cooling_degree_days",
    "kwh_per_hdd", "kwh_per_cdd", "base_kwh_per_day", "sensitivity_days", "growth_yoy_raw",
    "growth_yoy_weather_normalized", "billed_kwh", "billed_source", "line_loss_kwh", "line_loss",
]
STEP_COLUMNS = ["region", "date", "level_before_kw", "level_after_kw", "step_kw", "step_share", "weeks_after",
                "noise_ratio"]
SALES_COLUMNS = ["region", "month", "customer_class", "industry", "customers", "kwh", "kwh_year_earlier",
                 "growth_yoy"]
REGION_COLUMNS = [
    "region", "first_month", "last_month", "months", "energy_kwh_12m", "peak_kw_12m", "load_factor_12m",
    "kwh_per_hdd", "kwh_per_cdd", "growth_yoy_weather_normalized", "steps", "line_loss_12m",
    "theft_scored_accounts", "theft_mean_score", "theft_top_accounts",
]


@dataclass(frozen=True)
class RegionalParams:
    """The analysis' tunables (params.yaml `regional`)."""

    heating_base_c: float = 18.0          # heating degree-days: max(0, base - daily mean temperature)
    cooling_base_c: float = 18.0          # cooling degree-days: max(0, daily mean temperature - base)
    sensitivity_window_days: int = 365    # the trailing window of the weather regression of a month
    sensitivity_min_days: int = 300       # complete days the window needs (else NaN: no full year of weather)
    growth_min_days: int = 20             # complete days both months need for the year-on-year growth
    step_window_weeks: int = 4            # weeks compared before and after a candidate step
    step_min_weeks: int = 3               # valid weeks needed on each side (a step near the end of the data)
    step_min_share: float = 0.10          # smallest shift of the level, as a share of the level before
    step_sharpness: float = 0.5           # the 7-day jump at the step day must be this share of the shift
    step_min_noise_ratio: float = 7.0     # the shift must be this many times the week-to-week noise of the level
    theft_top_n: int = 20                 # an account ranked this high on the theft list counts as "top"

    def __post_init__(self) -> None:
        from powerlens.errors import InvalidInput

        if self.cooling_base_c < self.heating_base_c:
            raise InvalidInput(f"regional: cooling_base_c ({self.cooling_base_c}) must not be below "
                               f"heating_base_c ({self.heating_base_c})")
        if not 0 < self.step_min_share < 1 or not 0 < self.step_sharpness <= 1:
            raise InvalidInput("regional: step_min_share must be in (0, 1) and step_sharpness in (0, 1]")
        if self.step_min_noise_ratio < 0:
            raise InvalidInput("regional: step_min_noise_ratio must not be negative")
        if self.step_min_weeks < 2 or self.step_window_weeks < self.step_min_weeks:
            raise InvalidInput("regional: need 2 <= step_min_weeks <= step_window_weeks")
        if self.sensitivity_min_days > self.sensitivity_window_days or self.growth_min_days < 1:
            raise InvalidInput("regional: sensitivity_min_days must not exceed sensitivity_window_days, "
                               "growth_min_days must be at least 1")


@dataclass
class RegionalAnalysis:
    """The stage's tables: `monthly` (region incl. `total` x month), `steps`, `sales` (region x
    class x industry x month; empty without customers), `regions` (one summary row per region)."""

    monthly: pd.DataFrame
    steps: pd.DataFrame
    sales: pd.DataFrame
    regions: pd.DataFrame
    temperature_source: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict:
        """The headline numbers (metrics/regional.json)."""
        regions = self.regions[self.regions["region"] != TOTAL]
        total = self.regions[self.regions["region"] == TOTAL]
        last = self.monthly[self.monthly["region"] == TOTAL].tail(1)

        def num(v, digits=4):
            return None if v is None or pd.isna(v) else round(float(v), digits)

        return {
            "regions": len(regions),
            "months": int(self.monthly["month"].nunique()),
            "first_month": str(self.monthly["month"].min()) if len(self.monthly) else None,
            "last_month": str(self.monthly["month"].max()) if len(self.monthly) else None,
            "region_months_incomplete": int((~self.monthly.loc[self.monthly["region"] != TOTAL, "complete"]).sum()),
            "outage_hours": int(self.monthly.loc[self.monthly["region"] != TOTAL, "outage_hours"].sum()),
            "steps": len(self.steps),
            "step_regions": sorted(self.steps["region"].unique().tolist()),
            "total_energy_kwh_12m": num(total["energy_kwh_12m"].iloc[0], 1) if len(total) else None,
            "total_growth_yoy_weather_normalized": num(last["growth_yoy_weather_normalized"].iloc[0]) if len(last)
            else None,
            "line_loss_12m": {r.region: num(r.line_loss_12m) for r in regions.itertuples()
                              if pd.notna(r.line_loss_12m)},
            "temperature_source": dict(sorted(self.temperature_source.items())),
            "sales_rows": len(self.sales),
        }
