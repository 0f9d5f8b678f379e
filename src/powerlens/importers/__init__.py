"""Importers: one module per source format, one entry point.

`import_source(fmt, src, out, key, ...)` reads a source, drops direct identifiers, turns source
ids into keyed pseudonyms, validates every row (bad rows to quarantine/<table>.parquet with
reason, source file and line) and writes the canonical tables plus validation.json.

| fmt              | module                       | writes                                          |
|------------------|------------------------------|-------------------------------------------------|
| synthetic        | utility_export               | customers, readings_daily[, readings_hourly], bills, payments, service_events |
| lcl              | lcl                          | customers, readings_daily[, readings_hourly], labels (acorn_group), calendar |
| powerco          | powerco                      | customers (+ typed attributes), labels (churn)  |
| credit-history   | credit_history               | customers, bills, payments, labels (arrears)    |
| csv              | csv_mapping (YAML mapping)   | whatever the mapping describes, labels when it names a label column; region_load from a utility's load export |
| gefcom2012       | gefcom2012                   | region_load (zone_<id>, hourly, outage flag), weather_hourly, weather_stations (empty), calendar (holidays) |

Labels are written only when the source has its label column. Every importer applies the
plausibility rules (`plausibility`: params.yaml `validate.plausibility`, default its defaults):
impossible readings, bills and payments are quarantined (kwh_implausible, inconsistent_aggregate,
amount_implausible, value_implausible; load_implausible for region load). Hourly load tables
report their missing hours as gaps (validation.json: tables.region_load.gaps), never as zeros.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from powerlens.importers.errors import ImportFailed

__all__ = ["FORMATS", "ImportFailed", "import_source"]

# format -> (module, function); modules load on demand
FORMATS: dict[str, tuple[str, str]] = {
    "synthetic": ("powerlens.importers.utility_export", "import_utility_export"),
    "lcl": ("powerlens.importers.lcl", "import_lcl"),
    "powerco": ("powerlens.importers.powerco", "import_powerco"),
    "credit-history": ("powerlens.importers.credit_history", "import_credit_history"),
    "csv": ("powerlens.importers.csv_mapping", "import_csv_mapping"),
    "gefcom2012": ("powerlens.importers.gefcom2012", "import_gefcom2012"),
}


def _importer(fmt: str) -> Callable[..., dict]:
    if fmt not in FORMATS:
        raise ImportFailed(f"unknown source format {fmt!r}; known: {', '.join(FORMATS)}")
    module, name = FORMATS[fmt]
    return getattr(importlib.import_module(module), name)


def import_source(fmt: str, src: Path, out: Path, key: bytes, mapping: Path | None = None,
                  max_reject_fraction: float = 0.05, progress=None, plausibility=None) -> dict:
    """Import one source in format `fmt` into the canonical tables under `out`.

    Returns the validation summary (also written to out/validation.json). Raises ImportFailed
    (one line naming the file and the problem) for anything unreadable, or when more than
    `max_reject_fraction` of the rows are quarantined. `plausibility`: the rules of
    `validate.plausibility` (a mapping, a config section or None for the defaults)."""
    importer = _importer(fmt)
    src, out = Path(src), Path(out)
    if fmt == "synthetic":
        if mapping is not None:
            raise ImportFailed(f"{Path(mapping).name}: the synthetic format takes no mapping")
        return importer(src, out, key, max_reject_fraction=max_reject_fraction, progress=progress,
                        plausibility=plausibility)
    return importer(src, out, key, mapping=mapping, max_reject_fraction=max_reject_fraction,
                    progress=progress, plausibility=plausibility)
