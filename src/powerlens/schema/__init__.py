"""The canonical tables (the contract between all stages), their validation and quarantine.

Every row that breaks a rule lands in `quarantine/<table>.parquet` with a reason code, the
source file and line; rows in = rows accepted + rows quarantined, always.

Modules, by role (every name is importable from `powerlens.schema`):
  tables      the table schemas, `check`, `empty_table`, `ValidationFailed`
  quarantine  reason codes, `Quarantine` and its per-table reports, validation.json
  parsing     lenient `to_datetime`, `to_number`, `to_bool`
  reading     `read_table`, `read_table_if_present`, `read_customer_range`
"""

from __future__ import annotations

from powerlens.schema.parsing import to_bool, to_datetime, to_number
from powerlens.schema.quarantine import (
    REASONS,
    Quarantine,
    TableReport,
    first_line_numbers,
    write_summary,
)
from powerlens.schema.reading import read_customer_range, read_table, read_table_if_present
from powerlens.schema.tables import (
    CANONICAL_FILES,
    CUSTOMER_CLASSES,
    EARLIEST,
    EVENT_KINDS,
    LOAD_KW_CAP,
    SCHEMAS,
    TABLE_SCHEMA,
    TEMPERATURE_RANGE_C,
    ValidationFailed,
    check,
    empty_table,
)

__all__ = [
    "CANONICAL_FILES",
    "CUSTOMER_CLASSES",
    "EARLIEST",
    "EVENT_KINDS",
    "LOAD_KW_CAP",
    "REASONS",
    "SCHEMAS",
    "TABLE_SCHEMA",
    "TEMPERATURE_RANGE_C",
    "Quarantine",
    "TableReport",
    "ValidationFailed",
    "check",
    "empty_table",
    "first_line_numbers",
    "read_customer_range",
    "read_table",
    "read_table_if_present",
    "to_bool",
    "to_datetime",
    "to_number",
    "write_summary",
]
