"""The synthetic generator's true drivers, as feature columns (synthetic/events.py: _churn_hazard;
the payment behaviour of the credit classes; meter tampering), for the tests that check what
the models learnt and what their reasons name (`from risk.generator_truth import ...`)."""

from powerlens.features.definitions import FEATURES

CREDIT = {name for name, f in FEATURES.items() if f.group == "credit"} | {"arrears_to_bill"}

# price sensitivity drives churn too (a bill shock drives away the price-sensitive, who also
# complain more): its estimates from the answer to the tariff rise (features/price.py)
PRICE_RESPONSE = {"price_sensitivity", "price_elasticity_kwh", "complaints_after_bill_rise"}
CHURN_DRIVERS = ({"complaints_12m", "complaints_90d", "days_since_complaint", "tenure_years", "bill_volatility",
                  "bill_amount_last", "customer_class", "capacity_kva", "two_part_tariff"} | CREDIT | PRICE_RESPONSE)

# a tamperer's metered kWh falls: after a tariff rise the price-response estimates read that fall
# as a strong answer to the price, so they carry the tampering too (features/price.py)
THEFT_DRIVERS = ({name for name, f in FEATURES.items() if f.group == "theft_signal"} | {"recent_change_ratio"}
                 | {"price_elasticity_kwh", "price_sensitivity"})
