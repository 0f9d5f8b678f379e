"""A utility's own CSV exports, described by a YAML mapping file -> canonical tables.

`import_csv_mapping(src, out, key, mapping)`: SRC is the folder of the exports, MAPPING the YAML
(default: SRC/mapping.yaml). Every file path in the mapping is relative to SRC and must stay
inside it (absolute paths, `..` and symlinks out of SRC are refused); the YAML is read with a safe
loader and YAML 1.2 booleans (`on`, `yes`, `no` stay strings). Example:
src/powerlens/importers/examples/state_grid_mapping.yaml (and the tests).

YAML format (version 1)::

    version: 1
    encoding: utf-8            # default for every file: utf-8 (a BOM is accepted), utf-8-sig,
                               # gbk, gb18030, big5, latin-1, ...
    delimiter: ","             # default field separator
    customer_defaults:         # used when there is no customers table: customers are then the
      customer_class: residential   # distinct ids of the readings (and bills), start_date = the
      region: null                  # first reading (or bill) date
    tables:
      customers:
        file: 客户档案.csv
        encoding: gbk
        columns:               # source header -> canonical column (headers may be Chinese);
          户号: customer_id     # unmapped columns are DROPPED: nothing raw passes by accident
          表号: meter_id        # meter ids link readings keyed by meter to the account
          用电类别: customer_class
          立户日期: start_date
          销户日期: end_date
          合同容量: capacity_kva
        values:                # optional: canonical column -> {source value: canonical value}
          customer_class: {居民: residential, 商业: commercial, 大工业: large_industrial}
        constants: {region: guangdong}   # canonical columns fixed for the whole file
        identifiers: [户名, 地址, 联系电话]   # direct identifiers: dropped (an identifier may not
                                          # also be mapped or kept)
        pseudonymize: [台区编号]  # extra source columns kept only as keyed pseudonyms
        attributes:            # extra source columns kept typed on customers (static features)
          行业分类: {name: industry_code, type: category}  # float | date | bool | category | text
        label: {column: 是否流失, task: churn, as_of: 2016-01-01}   # optional given label
      readings:                # one spec, or a list of specs (e.g. a daily and a 15-min file)
        file: 日电量.csv
        layout: long           # long: one reading per row (customer or meter, timestamp, kWh)
        interval: daily        # daily -> readings_daily; hourly -> readings_hourly; 15min / 30min
                               # -> validated per row (quarantine readings_15min ...), summed into
                               # readings_hourly (n_intervals, partial_hour) and, when there is no
                               # daily spec, into readings_daily
        columns: {户号: customer_id, 日期: ts, 电量: kwh}
        date_format: "%Y%m%d"  # optional strftime format of the timestamps (else parsed leniently)
      # wide form, like the State Grid theft data (CONS_NO, FLAG, 2014/1/1, 2014/1/2, ...):
      #   readings: {file: data.csv, layout: wide, interval: daily,
      #              columns: {CONS_NO: customer_id}, date_format: "%Y/%m/%d",
      #              label: {column: FLAG, task: theft}}
      # one row per customer, every header that parses as a date is a day; a blank cell is a
      # missing reading (not a row); a non-numeric or negative cell is a quarantined reading
      # whose source line is the customer's row.
      bills:    {file: ..., columns: {..: customer_id, ..: bill_id, ..: period, ..: amount,
                 ..: due_date, ..: kwh, ..: bill_date}}     # period: YYYY-MM, YYYYMM or a date
      payments: {file: ..., columns: {..: bill_id, ..: paid_on, ..: amount, ..: channel,
                 ..: customer_id}}   # customer_id optional: taken from the bill
      service_events: {file: ..., columns: {..: customer_id, ..: ts, ..: kind, ..: outcome},
                       values: {kind: {投诉: complaint, 故障报修: fault_report}}}
      region_load:             # a load export (SCADA, metering system): hourly load per region;
        file: 负荷.csv          # needs no customers table; missing hours are reported as gaps
        layout: long           # long: {..: region, ..: ts, ..: load_kw}; wide: {..: region, ..: date}
        columns: {站名: region, 时间: ts, 负荷: load_kw}   # + 24 hour columns h1..h24 / 1..24 (hours
        unit: MW               # ending) or 0..23 / 0时..23时 (hours beginning); `hours: ending|beginning`
        thousands: ","         # optional: W, kW (default) or MW; a thousands separator to remove
    labels_as_of: 2016-11-01   # as_of of given labels without their own (default: the day
                               # after the last reading; a load-only mapping: the day after the last hour)

Ids: customer_id, meter_id and bill_id become keyed pseudonyms (one key links every table and
every import); the columns listed in `identifiers`, and unmapped columns, are dropped.
Labels: label rows go through the labels validator (binary tasks accept 0/1, t/f, yes/no).
Several bills files are validated together (a bill id in two files is a duplicate_bill). An hourly
file and hours summed from a sub-hourly file are merged when they cover different customers or
times; the same customer and hour from both is refused. Plausibility (validate.plausibility)
applies to readings (capacity or class ceiling, own history), bills and payments.

Modules: spec (the mapping file and its check), columns (from a mapped file to canonical
columns), importer (`import_csv_mapping`, step by step). Every name is importable from here.
"""

from __future__ import annotations

from powerlens.importers.csv_mapping.columns import (
    canonical_columns,
    link_meters,
    normalize_period,
    parse_ts,
    read_source,
    type_attributes,
    wide_hours_to_long,
    wide_to_long,
)
from powerlens.importers.csv_mapping.importer import derived_customers, import_csv_mapping
from powerlens.importers.csv_mapping.spec import (
    ATTRIBUTE_TYPES,
    CN_IDENTIFIER_HINTS,
    ID_COLUMNS,
    INTERVALS,
    PER_DAY,
    REQUIRED,
    TABLES,
    MappingError,
    load_mapping,
    looks_like_identifier,
)

__all__ = [
    "ATTRIBUTE_TYPES",
    "CN_IDENTIFIER_HINTS",
    "ID_COLUMNS",
    "INTERVALS",
    "PER_DAY",
    "REQUIRED",
    "TABLES",
    "MappingError",
    "canonical_columns",
    "derived_customers",
    "import_csv_mapping",
    "link_meters",
    "load_mapping",
    "looks_like_identifier",
    "normalize_period",
    "parse_ts",
    "read_source",
    "type_attributes",
    "wide_hours_to_long",
    "wide_to_long",
]
