"""One definition per business rule: the words the whole workbench shares.

Every module that needs the task list, the tier and grade orders, the MLflow experiment and
registry names, or whether a bill was paid in full by its due date takes it from here, so that
features, labels, KPIs and the review of past actions cannot disagree.
"""

from __future__ import annotations

import re

import numpy as np

# risk tasks whose labels are derived from events (a source may give others, e.g. acorn_group)
TASKS: tuple[str, ...] = ("churn", "arrears", "theft")

# value tiers, best first, and credit grades, best first
VALUE_TIERS: tuple[str, ...] = ("high", "medium", "low")
CREDIT_GRADES: tuple[str, ...] = ("A", "B", "C")
# a tier / grade cell as the report and the migration matrix name it: "high/A" ... "low/C"
TIER_CELLS: tuple[str, ...] = tuple(f"{t}/{g}" for t in VALUE_TIERS for g in CREDIT_GRADES)

# MLflow: one experiment per kind of run, one registered model per task
RISK_EXPERIMENT = "powerlens-risk"
SEGMENTATION_EXPERIMENT = "powerlens-segmentation"
FORECAST_EXPERIMENT = "powerlens-forecast"
REGISTERED_MODEL_PREFIX = "powerlens-"
CHAMPION, CHALLENGER = "champion", "challenger"


def probability_text(p) -> str:
    """A probability with the precision a calibrated risk score has: whole percents from 10%,
    one decimal below, and "< 1%" / "> 99%" at the ends (never "1.000" or "0.000": no model
    knows a 3-month outcome that surely). The report and the action lists' reasons both say it so."""
    if p is None or p != p:  # None or NaN
        return "–"
    p = float(p)
    if p < 0.01:
        return "< 1%"
    if p > 0.99:
        return "> 99%"
    return f"{p:.1%}" if round(p * 100, 1) < 10 else f"{p:.0%}"


def registered_name(task: str) -> str:
    """The registered model of a task: `powerlens-churn`."""
    return f"{REGISTERED_MODEL_PREFIX}{task}"


# a bill counts as paid in full when what was paid reaches the amount less this share and this
# absolute amount (rounding and small write-offs): one tolerance for features, labels, KPIs and
# the outcomes of past actions
# a source without bill dates: a bill is taken as issued this many days before it is due
BILL_DAYS_TO_DUE = 20


def bill_issued_on(bills):
    """The day each bill was issued: its `bill_date`, else BILL_DAYS_TO_DUE days before its due
    date. Features, outcomes and the price features see a bill from this day on."""
    import pandas as pd

    return bills["bill_date"] if "bill_date" in bills else bills["due_date"] - pd.Timedelta(days=BILL_DAYS_TO_DUE)


PAID_IN_FULL_SHARE = 0.01
PAID_IN_FULL_ABSOLUTE = 0.01


def paid_in_full(paid, amount):
    """Whether `paid` settles `amount` (elementwise on arrays and Series; NaN paid is unpaid)."""
    paid = np.nan_to_num(np.asarray(paid, dtype=float), nan=0.0)
    amount = np.asarray(amount, dtype=float)
    settled = paid >= amount * (1.0 - PAID_IN_FULL_SHARE) - PAID_IN_FULL_ABSOLUTE
    return settled


# a report period is a calendar month, written 'YYYY-MM'
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def is_period(text: object) -> bool:
    return isinstance(text, str) and bool(_PERIOD.match(text))


def period_bounds(period: str):
    """First day of the period and first day of the next one (the exclusive end)."""
    import pandas as pd

    from powerlens.errors import UsageError

    if not is_period(period):
        raise UsageError(f"period must look like 'YYYY-MM', got {period!r}")
    p = pd.Period(period, freq="M")
    return p.start_time, (p + 1).start_time


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(text: object, option: str = "date"):
    """A calendar day written 'YYYY-MM-DD' (e.g. --as-of), as a Timestamp; UsageError otherwise."""
    import pandas as pd

    from powerlens.errors import UsageError

    try:
        if isinstance(text, pd.Timestamp):
            return text.normalize()
        if not _DATE.match(str(text)):
            raise ValueError
        return pd.Timestamp(str(text))
    except ValueError:
        raise UsageError(f"{option} must be a date like 2016-01-01, got {str(text)[:40]!r}") from None


def periods_between(start: str, end: str) -> list[str]:
    """Every month from start to end, both included ('YYYY-MM')."""
    import pandas as pd

    from powerlens.errors import UsageError

    period_bounds(start)
    period_bounds(end)
    if end < start:
        raise UsageError(f"--from {start} is after --to {end}")
    return [str(p) for p in pd.period_range(start, end, freq="M")]


def previous_cutoff(cutoff):
    """The cut-off a month before: last period's state, for migration, score drift and the
    review of last period's actions."""
    import pandas as pd

    return pd.Timestamp(cutoff) - pd.DateOffset(months=1)
