"""Quarantine: every row that breaks a rule lands in `quarantine/<table>.parquet` with a reason
code, the source file and line; rows in = rows accepted + rows quarantined, always. Also the
reason codes and validation.json."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from powerlens.schema.tables import CUSTOMER_CLASSES, EVENT_KINDS

# reason code -> one-line meaning, shown to the user next to the count
REASONS = {
    "missing_customer_id": "the customer id is empty",
    "duplicate_customer": "the same customer id appears more than once",
    "unknown_customer_class": f"customer_class is not one of {', '.join(CUSTOMER_CLASSES)}",
    "bad_start_date": "start_date is missing or not a date",
    "end_before_start": "end_date is before start_date",
    "capacity_not_numeric": "capacity_kva is not a non-negative number",
    "ts_unparseable": "the timestamp could not be parsed",
    "ts_out_of_range": "the timestamp is before 1990 or in the future",
    "kwh_not_numeric": "kWh is not a number",
    "kwh_negative": "kWh is negative",
    "duplicate_reading": "a second reading for the same customer and timestamp",
    "unknown_customer": "the customer id is not in the customer table",
    "missing_bill_id": "the bill id is empty",
    "duplicate_bill": "the same bill id appears more than once",
    "amount_not_numeric": "amount is not a number",
    "amount_negative": "amount is negative",
    "bad_period": "the billing period is not a YYYY-MM month",
    "payment_without_bill": "the payment refers to a bill that is not in the bill table",
    "unknown_event_kind": f"kind is not one of {', '.join(EVENT_KINDS)}",
    "resolution_hours_not_numeric": "the resolution time (hours) is given but not a number",
    "resolution_hours_negative": "the resolution time (hours) is negative",
    "satisfaction_out_of_range": "the callback satisfaction is outside the scale of 1 to 5",
    "start_in_future": "start_date is in the future",
    "dst_repeated_hour": "a second reading at the same wall-clock hour on an autumn DST change day "
                         "(the repeated hour; the first reading is kept)",
    "mixed_interval": "the reading is off the customer's dominant interval grid (e.g. a 15-minute "
                      "reading among hourly ones, a daily reading stamped 13:00 among midnights)",
    "interval_count_invalid": "the number of intervals in the aggregate is not a count in range",
    "due_before_bill_date": "due_date is before bill_date",
    "payment_customer_mismatch": "the payment's customer is not the customer of its bill",
    "missing_task": "the label's task is empty",
    "label_missing": "the label is empty",
    "label_not_allowed": "the label is not one of the values allowed for its task",
    "duplicate_label": "a second label for the same customer, task and as_of",
    "attribute_not_numeric": "a numeric attribute holds something that is not a finite number",
    "attribute_bad_date": "a date attribute holds something that is not a date",
    "attribute_not_boolean": "a yes/no attribute holds something other than t/f, true/false, 1/0",
    "duplicate_date": "the same date appears more than once",
    "repayment_status_invalid": "the repayment status is not one of -2, -1, 0, 1..9",
    "no_readings": "the customer has no readings, so no start date can be given",
    "temperature_not_numeric": "the temperature is not a number",
    "temperature_out_of_range": "the temperature is beyond -60..60 C",
    "kwh_implausible": "kWh above what the customer's contracted capacity (or, when unknown, its "
                       "class's maximum demand) can deliver in the interval, or far above the "
                       "customer's own history (robust z-score of log kWh)",
    "inconsistent_aggregate": "the aggregate contradicts its parts (sum != mean x count, or outside "
                              "min x count .. max x count)",
    "amount_implausible": "the amount is above validate.plausibility.max_amount",
    "value_implausible": "a number beyond validate.plausibility.max_abs_value (or a negative voltage)",
    "missing_region": "the region (zone, feeder, substation) is empty",
    "missing_station": "the weather station is empty",
    "load_not_numeric": "the load is not a number",
    "load_negative": "the load is negative",
    "load_implausible": "the load is above what any region draws (schema.LOAD_KW_CAP, or "
                        "validate.plausibility.max_abs_value), or far above the region's own history "
                        "(robust z-score of log load)",
    "duplicate_hour": "a second value for the same region (or station) and hour (the first is kept)",
    "off_the_hour": "the timestamp is not on a whole hour (an hourly table)",
    "duplicate_mapping": "the same station-to-region pair appears more than once",
    "period_kwh_not_numeric": "a ToU period's kWh (kwh_peak, kwh_flat, ...) is given but not a number",
    "period_kwh_negative": "a ToU period's kWh is negative",
    "period_kwh_not_summing": "the bill's kWh per ToU period do not add up to its kWh (within 1%)",
    "unknown_scheme": "the tariff scheme is not flat or tou",
    "unknown_period": "the tariff period is not one of sharp, peak, flat (the ToU shoulder), valley",
    "flat_scheme_period": "a flat-scheme tariff row has a period other than flat",
    "voltage_not_numeric": "the voltage band (voltage_kv_min) is given but not a number",
    "voltage_negative": "the voltage band (voltage_kv_min) is negative",
    "price_not_numeric": "the price per kWh is missing or not a number",
    "price_not_positive": "the price per kWh is zero or negative",
    "capacity_charge_not_numeric": "the capacity charge is given but not a number",
    "capacity_charge_negative": "the capacity charge is negative",
    "duplicate_tariff": "a second price for the same class, region, voltage band, scheme, period and date",
}


@dataclass
class TableReport:
    table: str
    source_file: str
    rows_in: int = 0
    accepted: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    examples: dict[str, int] = field(default_factory=dict)  # reason -> first source line
    example_files: dict[str, str] = field(default_factory=dict)  # reason -> its file (multi-file)
    # hourly tables: per series (region), the hours with no value: {"hours": n, "ranges": [[a, b]]}
    gaps: dict[str, dict] = field(default_factory=dict)

    @property
    def reconciled(self) -> bool:
        return self.rows_in == self.accepted + self.quarantined

    def lines(self) -> list[str]:
        """One line per problem, for people."""
        out = []
        for code, n in sorted(self.reasons.items(), key=lambda kv: -kv[1]):
            out.append(
                f"{self.table}: {n} row(s) quarantined: {code} ({REASONS.get(code, code)}), "
                f"first at {self.example_files.get(code, self.source_file)} line {self.examples[code]}"
            )
        for series, gap in self.gaps.items():
            first = gap["ranges"][0] if gap["ranges"] else ["?", "?"]
            out.append(f"{self.table}: {series}: {gap['hours']} hour(s) missing (gaps, not zeros) in "
                       f"{len(gap['ranges'])} range(s), first {first[0]} .. {first[1]}")
        return out

    def as_dict(self) -> dict:
        return {
            "source_file": self.source_file,
            "rows_in": self.rows_in,
            "accepted": self.accepted,
            "quarantined": self.quarantined,
            "reconciled": self.reconciled,
            "reasons": dict(self.reasons),
            **({"gaps": self.gaps} if self.gaps else {}),
        }


class Quarantine:
    """Collects rejected rows per table with their reason, source file and line."""

    def __init__(self) -> None:
        self.rejected: dict[str, list[pd.DataFrame]] = {}
        self.reports: dict[str, TableReport] = {}

    def split(self, table: str, df: pd.DataFrame, checks: list[tuple[str, pd.Series]],
              source_file: str, first_line: int) -> pd.DataFrame:
        """Apply checks in order (first failing reason wins); returns the accepted rows.

        `df` carries a `_line` column: the row's line in its source file; a source read from
        several files (blocks) also carries `_file`, the file of each row."""
        codes = np.zeros(len(df), dtype=np.int16)  # 0 = fine, i + 1 = checks[i] failed first
        for i, (_, bad) in enumerate(checks):
            bad = np.asarray(pd.Series(bad).fillna(False), dtype=bool)
            codes[(codes == 0) & bad] = i + 1
        is_bad = codes > 0
        reason = np.array([""] + [code for code, _ in checks], dtype=object)[codes[is_bad]]
        report = self.reports.setdefault(table, TableReport(table, source_file))
        report.rows_in += len(df)
        report.accepted += int((~is_bad).sum())
        report.quarantined += int(is_bad.sum())
        if is_bad.any():
            rejected = df.loc[is_bad].copy()
            rejected.insert(0, "reason", reason)
            rejected = rejected.rename(columns={"_line": "source_line"})
            files = rejected.pop("_file").astype(str) if "_file" in rejected else source_file
            rejected.insert(1, "source_file", files)
            for col in rejected.columns:  # keep whatever the source said, as text
                if col not in ("source_line",):
                    rejected[col] = rejected[col].astype("string")
            self.rejected.setdefault(table, []).append(rejected)
            firsts = rejected.drop_duplicates("reason").set_index("reason")
            for code, n in rejected["reason"].value_counts().items():
                report.reasons[code] = report.reasons.get(code, 0) + int(n)
                line, file = int(firsts.loc[code, "source_line"]), str(firsts.loc[code, "source_file"])
                # the first line: a table split in blocks (of customers, of files) reports its
                # earliest, whatever the order of the blocks
                if code not in report.examples or (
                        file == report.example_files.get(code, source_file) and line < report.examples[code]):
                    report.examples[code] = line
                    if file != source_file:
                        report.example_files[code] = file
        return df.loc[~is_bad].drop(columns=[c for c in ("_line", "_file") if c in df])

    def merge(self, other: Quarantine) -> None:
        """Add what `other` collected (a later block of the same tables, e.g. a partition validated
        elsewhere), as if its rows had been split here after this one's."""
        for table, theirs in other.reports.items():
            report = self.reports.setdefault(table, TableReport(table, theirs.source_file))
            report.rows_in += theirs.rows_in
            report.accepted += theirs.accepted
            report.quarantined += theirs.quarantined
            for code, n in theirs.reasons.items():
                report.reasons[code] = report.reasons.get(code, 0) + n
                line, file = theirs.examples[code], theirs.example_files.get(code, theirs.source_file)
                if code not in report.examples or (
                        file == report.example_files.get(code, report.source_file) and line < report.examples[code]):
                    report.examples[code] = line
                    if file != report.source_file:
                        report.example_files[code] = file
            report.gaps.update(theirs.gaps)
        for table, parts in other.rejected.items():
            self.rejected.setdefault(table, []).extend(parts)

    @property
    def rows_in(self) -> int:
        return sum(r.rows_in for r in self.reports.values())

    @property
    def quarantined(self) -> int:
        return sum(r.quarantined for r in self.reports.values())

    def write(self, out_dir: Path) -> None:
        from powerlens.atomic import write_parquet

        qdir = Path(out_dir) / "quarantine"
        qdir.mkdir(parents=True, exist_ok=True)
        for old in qdir.glob("*.parquet"):
            if old.stem not in self.rejected:
                old.unlink()
        for table, parts in self.rejected.items():
            rows = pd.concat(parts, ignore_index=True)
            if len(parts) > 1:  # in the source's order, however the table was split
                rows = rows.sort_values(["source_file", "source_line"], kind="stable", ignore_index=True)
            write_parquet(rows, qdir / f"{table}.parquet")

    def summary(self) -> dict:
        return {
            # by table name: tables validated in parallel finish in any order, the file must not
            "tables": {t: self.reports[t].as_dict() for t in sorted(self.reports)},
            "rows_in": self.rows_in,
            "quarantined": self.quarantined,
            "reject_fraction": self.quarantined / self.rows_in if self.rows_in else 0.0,
            "reconciled": all(r.reconciled for r in self.reports.values()),
        }

    def problem_lines(self) -> list[str]:
        return [line for t in sorted(self.reports) for line in self.reports[t].lines()]


def write_summary(out_dir: Path, summary: dict) -> None:
    from powerlens.atomic import write_text

    write_text(Path(out_dir) / "validation.json", json.dumps(summary, indent=2))


def first_line_numbers(n: int, header: bool) -> np.ndarray:
    """Source line of each data row: CSV rows start at line 2 (after the header)."""
    return np.arange(n) + (2 if header else 1)
