"""The synthetic utility's configuration and the fixed parameters of its world: customer classes,
regions, capacities, tariffs, load shapes and the names its fake identities are drawn from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

CLASS_MIX = {
    "residential": 0.85,
    "commercial": 0.08,
    "general_industrial": 0.045,
    "large_industrial": 0.004,
    "agricultural": 0.011,
    "public": 0.01,
}
REGIONS = ["riverside", "hillcrest", "lakeshore", "eastport"]
REGION_TEMP_OFFSET = {"riverside": 1.5, "hillcrest": -2.5, "lakeshore": 0.0, "eastport": 3.0}
INDUSTRIES = {
    "residential": ["household"],
    "commercial": ["retail", "hospitality", "offices", "logistics"],
    "general_industrial": ["manufacturing", "food_processing", "textiles", "plastics"],
    "large_industrial": ["metals", "chemicals", "cement", "paper"],
    "agricultural": ["irrigation", "greenhouse", "livestock"],
    "public": ["schools", "hospitals", "government", "street_lighting"],
}
# (median kVA, log-sd, min, max) of contracted capacity
CAPACITY = {
    "residential": None,
    "commercial": (60, 0.9, 10, 1250),
    "general_industrial": (180, 0.9, 30, 2500),
    "large_industrial": (1250, 0.5, 630, 20000),
    "agricultural": (50, 0.7, 10, 630),
    "public": (100, 0.9, 10, 1600),
}
# mean load as a share of contracted capacity (low, high)
UTILISATION = {
    "residential": (0.08, 0.20),
    "commercial": (0.06, 0.16),
    "general_industrial": (0.10, 0.25),
    "large_industrial": (0.25, 0.45),
    "agricultural": (0.08, 0.22),
    "public": (0.10, 0.28),
}
ENERGY_PRICE = {  # per kWh
    "residential": 0.62,
    "commercial": 0.78,
    "general_industrial": 0.68,
    "large_industrial": 0.62,
    "agricultural": 0.45,
    "public": 0.60,
}
CAPACITY_CHARGE = 28.0  # per kVA and month, two-part tariff only
# the tariff schedule the utility bills from (synthetic.tariffs.tariff_table): the class price,
# 4% more per region (in REGIONS order), less at higher supply voltage, and under ToU a peak,
# shoulder (flat) and valley price relative to the flat tariff's
REGION_PRICE_STEP = 0.04
VOLTAGE_PRICE_FACTOR = {0.0: 1.0, 10.0: 0.97, 35.0: 0.95, 110.0: 0.93}  # from voltage_kv_min up
TOU_PRICE_FACTOR = {"peak": 1.5, "flat": 1.0, "valley": 0.4}
# halfway through the window every price rises by TARIFF_RISE; a customer's consumption falls by
# PRICE_ELASTICITY x its price_sensitivity x the rise from then on (the response the
# price-sensitivity feature estimates)
TARIFF_RISE = 0.08
PRICE_ELASTICITY = 1.5

SHAPE_BY_CLASS = {
    "residential": {"evening_peak": 0.7, "double_peak": 0.3},
    "commercial": {"daytime_weekday": 1.0},
    "general_industrial": {"daytime_weekday": 0.55, "flat_multishift": 0.45},
    "large_industrial": {"flat_multishift": 1.0},
    "agricultural": {"seasonal_agri": 1.0},
    "public": {"daytime_weekday": 0.6, "night_lighting": 0.4},
}
LOAD_SHAPES = [
    "evening_peak",
    "double_peak",
    "daytime_weekday",
    "flat_multishift",
    "seasonal_agri",
    "night_lighting",
]


def _hourly_profile(points: dict[int, float]) -> np.ndarray:
    """A 24-hour shape, linearly interpolated between anchor hours, normalised to mean 1."""
    hours = sorted(points)
    values = [points[h] for h in hours]
    profile = np.interp(np.arange(24), hours + [hours[0] + 24], values + [values[0]], period=24)
    return profile / profile.mean()


HOURLY_SHAPE = {
    "evening_peak": _hourly_profile({0: 0.45, 4: 0.35, 7: 0.8, 9: 0.65, 13: 0.6, 17: 1.2, 19: 2.0, 21: 1.7, 23: 0.8}),
    "double_peak": _hourly_profile({0: 0.4, 4: 0.35, 7: 1.6, 9: 1.1, 12: 0.55, 16: 0.7, 19: 1.6, 21: 1.2, 23: 0.6}),
    "daytime_weekday": _hourly_profile({0: 0.25, 6: 0.3, 8: 1.4, 10: 1.9, 13: 1.8, 17: 1.7, 19: 0.7, 22: 0.3}),
    "flat_multishift": _hourly_profile({0: 0.92, 6: 0.88, 8: 1.05, 14: 1.06, 16: 0.97, 22: 1.02}),
    "seasonal_agri": _hourly_profile({0: 0.35, 5: 0.4, 7: 1.5, 12: 1.7, 17: 1.5, 19: 0.6, 22: 0.35}),
    "night_lighting": _hourly_profile({0: 2.0, 5: 1.9, 7: 0.05, 12: 0.04, 17: 0.08, 19: 2.0, 23: 2.0}),
}
# Monday..Sunday multipliers
WEEKLY_SHAPE = {
    "evening_peak": [0.97, 0.97, 0.97, 0.98, 1.0, 1.08, 1.1],
    "double_peak": [0.97, 0.97, 0.97, 0.97, 1.0, 1.1, 1.12],
    "daytime_weekday": [1.12, 1.14, 1.14, 1.14, 1.1, 0.55, 0.35],
    "flat_multishift": [1.01, 1.01, 1.01, 1.01, 1.01, 0.98, 0.96],
    "seasonal_agri": [1.0] * 7,
    "night_lighting": [1.0] * 7,
}
# how much load moves from peak to valley hours for time-of-use customers
TOU_SHIFT = 0.18
PEAK_HOURS = [8, 9, 10, 11, 17, 18, 19, 20]
VALLEY_HOURS = [0, 1, 2, 3, 4, 5, 6, 23]

# technical (resistive, transformer) losses per region: a constant share of the region's load. The
# same share everywhere: the tamperers' stolen energy is 0.3-0.9% of a region's load (most energy
# goes to large accounts, most tamperers are homes), so a spread of technical shares across regions
# would hide theft in a comparison of line loss between regions
TECHNICAL_LOSS = {"riverside": 0.06, "hillcrest": 0.06, "lakeshore": 0.06, "eastport": 0.06}
# the large new connection in one region (region_load.NewConnection): connected this many days
# before the end of the export, how big (share of the region's mean load before it) and its daily
# shape. Eight weeks before the end: a recent step that a planner must notice and a forecast must
# catch, and after every training cut-off of the risk models (which leave a label horizon of at
# least 2 months before the end), so that their training rows are those of the utility without it
GROWTH_EVENT = {"region": "lakeshore", "days_before_end": 56, "kw_share_of_region": 0.25,
                "shape": "flat_multishift"}

FIRST_NAMES = ["Wei", "Li", "Min", "Jing", "Hao", "Lei", "Yan", "Ming", "Anna", "James", "Maria",
               "David", "Sofia", "Omar", "Priya", "Chen", "Yusuf", "Elena", "Ravi", "Grace"]
LAST_NAMES = ["Wang", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Smith", "Garcia",
              "Novak", "Okafor", "Kumar", "Haddad", "Schmidt", "Rossi", "Tanaka"]
STREETS = ["Harbour", "Station", "Orchard", "Willow", "Mill", "Granite", "Canal", "Cedar"]


@dataclass(frozen=True)
class SyntheticConfig:
    customers: int = 10_000
    months: int = 36
    seed: int = 42
    end: str = "2026-11-01"
    interval_metered_residential_share: float = 0.10

    @property
    def end_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.end).normalize()

    @property
    def start_ts(self) -> pd.Timestamp:
        return self.end_ts - pd.DateOffset(months=self.months)

    @property
    def tariff_revision_ts(self) -> pd.Timestamp:
        """The first day of the month halfway through the window: every price rises then."""
        return self.start_ts + pd.DateOffset(months=self.months // 2)
