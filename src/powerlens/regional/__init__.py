"""Regional load and sales: per region (zone, feeder, substation) and month, how much energy it
takes, how peaky it is, how it reacts to the weather, how fast it grows once the weather is
taken out, where its level stepped (new large loads), and how much of its energy is not billed
(line loss) next to its theft scores. Pure functions: frames and parameters in, frames out.

Conventions:

- `region_load` is hourly (ts = the hour's beginning). A missing hour is a gap, never a zero:
  energy is the sum of the observed hours, `hours_missing` says how many of the month's hours
  had no value, `complete` is True when none is missing, and `energy_kwh_scaled` is the observed
  mean load x the month's hours.
- `total` is the system: per hour, the sum of the regions that report in that month, an hour
  being part of the total only when every one of them has a value (a gap in one region is a gap
  of the total). Its monthly rows come from that hourly sum: its peak is the coincident peak, not
  the sum of the regions' peaks.
- Temperature of a region: the mean of its stations in `weather_hourly` (`weather_stations`
  map), else its `weather_daily` series, else the region-less `weather_daily` rows, else the
  mean of all stations. Degree-days per day from the day's mean temperature.
- Weather sensitivity of a month: an ordinary least-squares regression of daily energy on
  heating and cooling degree-days and the day of the week, over the complete days of the
  `sensitivity_window_days` ending with the month (trailing year), when at least
  `sensitivity_min_days` such days exist, else NaN.
- Weather-normalized growth: this month's mean daily energy moved to last year's weather with
  this month's sensitivity, against the same month a year earlier (mean daily energy of the
  complete days of each month, at least `growth_min_days` in both), minus 1.
- Steps (new-load events): the daily energy is normalized to the history's average weather
  (a whole-history regression, refitted with the detected steps), averaged per week, and a
  shift of at least `step_min_share` of the level and `step_min_noise_ratio` times the level's
  week-to-week noise (robust standard deviation) between the `step_window_weeks` weeks before
  and after a week boundary is a step when it persists (every week after it lies beyond the
  midpoint, every week before it on the other side) and is sharp (the mean of the 7 days after
  the step day minus the 7 days before it is at least half the shift: a seasonal drift is not a
  step). The step day is the day with the largest such 7-day difference near the boundary.

Modules: `base` (columns, parameters, the result), `load` (hourly, daily, monthly load and the
total), `weather` (temperatures, degree-days, sensitivity, normalized growth), `steps` (new-load
steps), `sales` (customer-months, billed energy, sales by class, theft per region), `analysis`
(the whole analysis). The names below are the package's public ones.
"""

from powerlens.regional.analysis import analyse, as_output, region_summary
from powerlens.regional.base import (
    HOURS_PER_DAY,
    MONTHLY_COLUMNS,
    REGION_COLUMNS,
    SALES_COLUMNS,
    STEP_COLUMNS,
    TOTAL,
    RegionalAnalysis,
    RegionalParams,
)
from powerlens.regional.load import daily_load, monthly_load, with_total
from powerlens.regional.sales import (
    billed_by_region,
    customer_month_kwh,
    sales_by_class,
    theft_by_region,
)
from powerlens.regional.steps import detect_steps
from powerlens.regional.weather import (
    degree_days,
    region_temperature,
    total_temperature,
    weather_sensitivity,
    year_on_year_growth,
)

__all__ = ["analyse", "as_output", "region_summary", "HOURS_PER_DAY", "MONTHLY_COLUMNS", "REGION_COLUMNS",
           "SALES_COLUMNS", "STEP_COLUMNS", "TOTAL", "RegionalAnalysis", "RegionalParams", "daily_load",
           "monthly_load", "with_total", "billed_by_region", "customer_month_kwh", "sales_by_class",
           "theft_by_region", "detect_steps", "degree_days", "region_temperature", "total_temperature",
           "weather_sensitivity", "year_on_year_growth"]
