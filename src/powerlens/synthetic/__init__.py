"""The embedded synthetic utility: a seeded, deterministic stand-in for a real utility's exports.

It writes what a customer information system and a metering head-end would export, *with*
direct identifiers (names, addresses, phones, account and meter numbers), so that the import
step has something to anonymize. The generator's ground truth (latent credit class, theft
episodes, load-shape class, latent-big flag...) goes to a separate file that models never read
and that tests use to check that the signal is recoverable.

Modules, by role (one random generator is drawn from in a fixed order across them):
  config       SyntheticConfig and the world's parameters (classes, tariffs, load shapes, names)
  customers    the customers and their latent traits; their fake identities
  consumption  weather, true daily kWh, metered kWh under theft, the hourly split
  simulation   the month-by-month loop, with billing (bills, payments) and events (service
               events, churn)
  region_load  the system-side load per region and hour (consumption, technical losses, theft,
               a new connection)
  export       `generate`: the simulation, then the raw export, ground truth and manifest
"""

from __future__ import annotations

from powerlens.synthetic.config import (
    CAPACITY,
    CAPACITY_CHARGE,
    CLASS_MIX,
    ENERGY_PRICE,
    FIRST_NAMES,
    GROWTH_EVENT,
    HOURLY_SHAPE,
    INDUSTRIES,
    LAST_NAMES,
    LOAD_SHAPES,
    PEAK_HOURS,
    REGION_TEMP_OFFSET,
    REGIONS,
    SHAPE_BY_CLASS,
    STREETS,
    TECHNICAL_LOSS,
    TOU_SHIFT,
    UTILISATION,
    VALLEY_HOURS,
    WEEKLY_SHAPE,
    SyntheticConfig,
)
from powerlens.synthetic.export import generate

__all__ = [
    "CAPACITY",
    "CAPACITY_CHARGE",
    "CLASS_MIX",
    "ENERGY_PRICE",
    "FIRST_NAMES",
    "GROWTH_EVENT",
    "HOURLY_SHAPE",
    "INDUSTRIES",
    "LAST_NAMES",
    "LOAD_SHAPES",
    "PEAK_HOURS",
    "REGIONS",
    "REGION_TEMP_OFFSET",
    "SHAPE_BY_CLASS",
    "STREETS",
    "TECHNICAL_LOSS",
    "TOU_SHIFT",
    "UTILISATION",
    "VALLEY_HOURS",
    "WEEKLY_SHAPE",
    "SyntheticConfig",
    "generate",
]
