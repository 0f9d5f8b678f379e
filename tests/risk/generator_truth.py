"""The synthetic generator's true drivers, as feature columns (synthetic/events.py: _churn_hazard;
the payment behaviour of the credit classes; meter tampering), for the tests that check what
the models learnt and what their reasons name (`from risk.generator_truth import ...`)."""

from powerlens.features.definitions import FEATURES

CREDIT = {name for name, f in FEATURES.items() if f.group == "credit"} | {"arrears_to_bill"}

CHURN_DRIVERS = ({"complaints_12m", "complaints_90d", "days_since_complaint", "tenure_years", "bill_volatility",
                  "bill_amount_last", "customer_class", "capacity_kva", "two_part_tariff"} | CREDIT)

THEFT_DRIVERS = {name for name, f in FEATURES.items() if f.group == "theft_signal"} | {"recent_change_ratio"}
