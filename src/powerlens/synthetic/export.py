"""`generate`: simulate the synthetic utility and write its raw export (readings, customer master,
bills, payments, service events, weather, the regions' hourly load) with direct identifiers, plus
its ground truth and a manifest (with the truth behind the region load: technical loss shares
and the growth event)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from powerlens.synthetic.config import REGIONS, SyntheticConfig
from powerlens.synthetic.consumption import (
    _hourly_from_daily,
    _metered,
    _temperature,
    _true_daily_kwh,
)
from powerlens.synthetic.customers import _customers, _fake_identity
from powerlens.synthetic.region_load import NewConnection, region_hourly_load
from powerlens.synthetic.simulation import _monthly_simulation
from powerlens.synthetic.tariffs import price_response, tariff_table

MASTER_COLUMNS = [
    "customer_class", "region", "industry", "voltage_kv", "capacity_kva", "two_part_tariff",
    "tou_tariff", "prepaid_meter", "interval_metered", "start_date", "end_date",
]


def generate(cfg: SyntheticConfig, out: str | Path, progress=None, customers_per_partition: int = 5000) -> dict:
    """Write the raw export of a synthetic utility into `out`; returns row counts.

    Memory is bounded by the customers x days arrays of the simulation (float32 true kWh,
    float64 metered kWh, two masks: about 2.5 GB for 100,000 customers x 36 months): what is
    larger (the consumption's intermediates, the hourly split, the readings' rows) is made and
    written `customers_per_partition` customers at a time, into one parquet file per table
    with a row group per partition. The random draws happen in the same order whatever the
    partition size, so the export does not depend on it."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(cfg.seed)
    step = progress or (lambda msg: None)

    step("customers")
    cust = _customers(cfg, rng)
    days = pd.date_range(cfg.start_ts, cfg.end_ts - pd.Timedelta(days=1), freq="D")
    n, d = len(cust), len(days)
    temps = _temperature(days, rng)

    step("consumption")
    # the customers' response to the tariff revision halfway through (draws nothing)
    true_kwh = _true_daily_kwh(cust, days, temps, rng, customers_per_partition)
    true_kwh *= price_response(cfg, cust, days)
    metered, in_theft = _metered(cust, true_kwh, d)

    step("bills, payments, service events, churn")
    bills, payments, events, end_day = _monthly_simulation(cfg, cust, days, metered, in_theft, rng)
    active = _close_accounts(cfg, cust, end_day, d)

    ident = _fake_identity(rng, n, cust["region"].to_numpy())
    # the growth event: a large new connection, appended last (its own random stream)
    connection = NewConnection(cfg, cust, days, true_kwh, active)
    cust, ident, true_kwh, metered, active, bills, payments, events = connection.append(
        cust, ident, true_kwh, metered, active, bills, payments, events)
    step("readings")
    meters = pd.Categorical(ident["meter_no"])
    n_daily = _write_daily(out, meters, days, metered, active, customers_per_partition)
    n_hourly = _write_hourly(out, meters, cust, days, metered, active, rng, customers_per_partition)

    step("customer master, truth")
    master = _write_master(out, ident, cust)
    _write_transactions(out, ident, bills, payments, events)
    _write_weather(out, days, temps)
    tariffs = tariff_table(cfg)
    tariffs.assign(valid_from=tariffs["valid_from"].dt.strftime("%Y-%m-%d")).to_csv(out / "tariffs.csv", index=False)
    _write_truth(out, cfg, ident, cust)
    step("region load")
    load, load_truth = region_hourly_load(cust, days, true_kwh, metered, active, cfg.seed)
    load_truth["growth_event"] = connection.truth()
    load.to_csv(out / "region_load.csv", index=False)
    counts = {
        "customers": len(master),
        "readings_daily": n_daily,
        "readings_hourly": n_hourly,
        "bills": len(bills),
        "payments": len(payments),
        "service_events": len(events),
        "region_load": len(load),
        "tariffs": len(tariffs),
    }
    manifest = {"generator": "powerlens.synthetic", "config": cfg.__dict__, "rows": counts,
                "region_load": load_truth}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    return counts


def _close_accounts(cfg: SyntheticConfig, cust: pd.DataFrame, end_day: np.ndarray, d: int) -> np.ndarray:
    """Set the end date of the accounts that closed; returns customers x days open."""
    day_idx = np.arange(d)
    start_day = (cust["start_date"] - cfg.start_ts).dt.days.to_numpy()
    active = (day_idx[None, :] >= start_day[:, None]) & (day_idx[None, :] < end_day[:, None])
    cust["end_date"] = pd.to_datetime(
        np.where(end_day < d, (cfg.start_ts + pd.to_timedelta(np.minimum(end_day, d), unit="D")), pd.NaT)
    )
    return active


class _PartitionedParquet:
    """One parquet file written a partition at a time (a row group or more per partition), the
    meter numbers dictionary-encoded (read back as a categorical), the other columns as the
    first partition typed them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.writer = None
        self.rows = 0

    def __enter__(self) -> _PartitionedParquet:
        return self

    def write(self, meters: pd.Categorical, **columns: np.ndarray) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        codes, uniques = pd.factorize(meters)  # the partition's own meters: a small dictionary
        table = pa.table({"meter_no": pa.DictionaryArray.from_arrays(
            pa.array(codes.astype(np.int32)), pa.array(np.asarray(uniques, dtype=object), type=pa.string())),
            **{name: pa.array(values) for name, values in columns.items()}})
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema)
        self.writer.write_table(table.cast(self.writer.schema))
        self.rows += len(codes)

    def __exit__(self, *exc) -> None:
        if self.writer is not None:
            self.writer.close()


def _write_daily(out: Path, meters: pd.Categorical, days: pd.DatetimeIndex, metered: np.ndarray,
                 active: np.ndarray, customers_per_partition: int) -> int:
    """Daily reads of every meter while its account is open, a partition of customers at a time."""
    n = len(metered)
    with _PartitionedParquet(out / "readings_daily.parquet") as writer:
        for lo in range(0, n, customers_per_partition):
            ci, di = np.nonzero(active[lo:lo + customers_per_partition])
            ci += lo
            writer.write(meters[ci], reading_date=days[di].values, kwh=np.round(metered[ci, di], 3))
    return writer.rows


def _write_hourly(out: Path, meters: pd.Categorical, cust: pd.DataFrame, days: pd.DatetimeIndex,
                  metered: np.ndarray, active: np.ndarray, rng: np.random.Generator,
                  customers_per_partition: int) -> int:
    """Hourly reads of the interval meters over the last year, a partition of interval meters at
    a time (their hourly noise drawn from `rng` in order, as for all of them at once)."""
    d = len(days)
    interval_all = np.flatnonzero(cust["interval_metered"].to_numpy())
    last_year = np.arange(max(d - 365, 0), d)
    shapes = cust["load_shape_class"].to_numpy()
    tou = cust["tou_tariff"].to_numpy()
    dow = days.day_of_week.to_numpy()[last_year]
    stamps = days[last_year].values
    with _PartitionedParquet(out / "readings_hourly.parquet") as writer:
        for lo in range(0, len(interval_all), customers_per_partition):
            interval = interval_all[lo:lo + customers_per_partition]
            hourly = _hourly_from_daily(metered[np.ix_(interval, last_year)], shapes[interval], tou[interval],
                                        dow, rng)
            hi, hd = np.nonzero(active[np.ix_(interval, last_year)])
            h_kwh = hourly[hi, hd, :].reshape(-1)
            h_ts = (stamps[hd][:, None] + np.arange(24)[None, :] * np.timedelta64(1, "h")).reshape(-1)
            writer.write(meters[np.repeat(interval[hi], 24)], reading_ts=h_ts, kwh=np.round(h_kwh, 4))
    return writer.rows


def _write_master(out: Path, ident: pd.DataFrame, cust: pd.DataFrame) -> pd.DataFrame:
    """The customer master: identity and account attributes, dates as text."""
    master = pd.concat([ident, cust[MASTER_COLUMNS]], axis=1)
    master["start_date"] = master["start_date"].dt.strftime("%Y-%m-%d")
    master["end_date"] = master["end_date"].dt.strftime("%Y-%m-%d")
    master.to_csv(out / "customers.csv", index=False)
    return master


def _write_transactions(out: Path, ident: pd.DataFrame, bills: pd.DataFrame, payments: pd.DataFrame,
                        events: pd.DataFrame) -> None:
    """Bills, payments and service events keyed by account number (events with the contact
    phone, as a CRM export carries it)."""
    acct = ident["account_no"].to_numpy()
    bills.insert(0, "account_no", acct[bills.pop("cust")])
    payments.insert(0, "account_no", acct[payments.pop("cust")])
    events.insert(0, "account_no", acct[events.pop("cust")])
    events["contact_phone"] = ident["phone"].to_numpy()[
        pd.Index(acct).get_indexer(events["account_no"])
    ]
    bills.to_csv(out / "bills.csv", index=False)
    payments.to_csv(out / "payments.csv", index=False)
    events.to_csv(out / "service_events.csv", index=False)


def _write_weather(out: Path, days: pd.DatetimeIndex, temps: dict[str, np.ndarray]) -> None:
    """The regional weather behind the heating/cooling load: utilities buy it from a weather
    service."""
    d = len(days)
    pd.DataFrame({
        "date": np.tile(days.strftime("%Y-%m-%d"), len(REGIONS)),
        "region": np.repeat(np.array(REGIONS, dtype=object), d),
        "temperature_mean": np.concatenate([temps[r] for r in REGIONS]).round(1),
    }).to_csv(out / "weather_daily.csv", index=False)


def _write_truth(out: Path, cfg: SyntheticConfig, ident: pd.DataFrame, cust: pd.DataFrame) -> None:
    """The generator's ground truth, apart from the export: models never read it."""
    acct = ident["account_no"].to_numpy()
    truth = pd.DataFrame(
        {
            "account_no": acct,
            "load_shape_class": cust["load_shape_class"],
            "credit_class": cust["credit_class"],
            "distress_onset": [
                (cfg.start_ts + pd.DateOffset(months=int(m))).strftime("%Y-%m-%d") if m >= 0 else None
                for m in cust["distress_onset_month"]
            ],
            "distress_months": cust["distress_months"],
            "theft": cust["theft"],
            "theft_start": _day_to_date(cfg, cust["theft_start_day"]),
            "theft_end": _day_to_date(cfg, cust["theft_end_day"]),
            "theft_factor": cust["theft_factor"],
            # would need a big connection within the horizon (an account the simulation adds is no fast grower)
            "latent_big": cust["becomes_big"] & cust["latent_big"],
            "fast_growth": cust["latent_big"],  # every fast grower, small ones included
            "over_contract": cust["over_contract"],  # planted: measured demand above the contract
            "growth_per_year": cust["growth_per_year"],
            "price_sensitivity": cust["price_sensitivity"],
        }
    )
    truth.to_parquet(out / "ground_truth.parquet", index=False)


def _day_to_date(cfg: SyntheticConfig, day: pd.Series) -> list:
    return [
        (cfg.start_ts + pd.Timedelta(days=int(x))).strftime("%Y-%m-%d") if x >= 0 else None
        for x in day
    ]
