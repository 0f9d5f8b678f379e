"""One definition per business rule: the words the whole workbench shares.

Every module that needs the task list, the tier and grade orders, the MLflow experiment and
registry names, or whether a bill was paid in full by its due date takes it from here, so that
features, labels, KPIs and the review of past actions cannot disagree.
"""

from __future__ import annotations

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
REGISTERED_MODEL_PREFIX = "powerlens-"
CHAMPION, CHALLENGER = "champion", "challenger"


def registered_name(task: str) -> str:
    """The registered model of a task: `powerlens-churn`."""
    return f"{REGISTERED_MODEL_PREFIX}{task}"


# a bill counts as paid in full when what was paid reaches the amount less this share and this
# absolute amount (rounding and small write-offs): one tolerance for features, labels, KPIs and
# the outcomes of past actions
PAID_IN_FULL_SHARE = 0.01
PAID_IN_FULL_ABSOLUTE = 0.01


def paid_in_full(paid, amount):
    """Whether `paid` settles `amount` (elementwise on arrays and Series; NaN paid is unpaid)."""
    paid = np.nan_to_num(np.asarray(paid, dtype=float), nan=0.0)
    amount = np.asarray(amount, dtype=float)
    settled = paid >= amount * (1.0 - PAID_IN_FULL_SHARE) - PAID_IN_FULL_ABSOLUTE
    return settled
