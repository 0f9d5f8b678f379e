"""The long default tables of the `train` section (params.yaml carries the same): derived
features computed inside each model, and the settings of each real source. Kept apart from
config.py so the section classes stay readable; their defaults, like every other, live only here
and in config.py."""

from __future__ import annotations

DERIVED_FEATURES = {
    "arrears_to_bill": {"expr": "arrears_amount / bill_amount_mean",
                        "meaning": "unpaid amount in months of an average bill"},
    "bill_to_credit_limit": {"expr": "bill_amount_last / attr_credit_limit",
                             "meaning": "latest bill over the credit limit"},
    "arrears_to_credit_limit": {"expr": "arrears_amount / attr_credit_limit",
                                "meaning": "unpaid amount over the credit limit"},
    "margin_per_kwh": {"expr": "attr_net_margin / attr_cons_12m",
                       "meaning": "net margin per kWh used in the last 12 months"},
    "margin_per_kw": {"expr": "attr_margin_net_pow_ele / attr_pow_max",
                      "meaning": "net power margin per kW subscribed"},
    "forecast_to_actual_kwh": {"expr": "attr_forecast_cons_12m / attr_cons_12m",
                               "meaning": "forecast over actual 12-month consumption"},
    "last_month_share": {"expr": "attr_cons_last_month / attr_cons_12m",
                         "meaning": "last month's share of the 12-month consumption"},
    "contract_days": {"expr": "attr_date_end_days + 365.25 * tenure_years",
                      "meaning": "contract length from activation to its end (days)"},
    "product_change_days": {"expr": "attr_date_modif_prod_days + 365.25 * tenure_years",
                            "meaning": "days from activation to the last product change"},
    "contract_anniversary_days": {"expr": "attr_date_end_days % 365.25",
                                  "meaning": "days to the next anniversary of the contract end date"},
    "renewal_to_end_days": {"expr": "attr_date_end_days - attr_date_renewal_days",
                            "meaning": "days from the last renewal to the contract end"},
    "gas_share": {"expr": "attr_cons_gas_12m / (attr_cons_12m + attr_cons_gas_12m)",
                  "meaning": "gas share of the energy bought in 12 months"},
    "kwh_per_kw": {"expr": "attr_cons_12m / attr_pow_max",
                   "meaning": "12-month electricity use per kW subscribed"},
    "net_to_gross_margin": {"expr": "attr_margin_net_pow_ele / attr_margin_gross_pow_ele",
                            "meaning": "net over gross power margin"},
    "peak_price_gap": {"expr": "attr_forecast_price_energy_off_peak - attr_forecast_price_energy_peak",
                       "meaning": "off-peak minus peak energy price"},
}

BY_SOURCE = {
    "powerco": {
        "lightgbm_by_task": {"churn": {"boosting_type": "gbdt", "n_estimators": 1000, "learning_rate": 0.01,
                                       "num_leaves": 31, "min_child_samples": 20, "subsample": 0.8,
                                       "subsample_freq": 1, "colsample_bytree": 0.5, "reg_lambda": 1.0}},
        "histgb_by_task": {"churn": {"max_iter": 1000, "learning_rate": 0.01, "max_leaf_nodes": 31,
                                     "min_samples_leaf": 20, "l2_regularization": 1.0, "max_features": 0.5}},
        "logistic_by_task": {"churn": {"class_weight": "none"}},
        "exclude_features_by_task": {"churn": ["capacity_kva", "tou_tariff", "attr_margin_gross_pow_ele",
                                               "attr_imp_cons", "margin_per_kwh"]},
    },
    "credit-history": {
        "derived_features": {
            "new_charges_last": {"expr": "bill_amount_last - bill_amount_prev + paid_last_due",
                                 "meaning": "charged in the latest period (the latest bill less what was left "
                                            "of the one before)"},
            "carried_over_last": {"expr": "bill_amount_prev - paid_last_due",
                                  "meaning": "part of the previous bill left unpaid"},
            "headroom": {"expr": "attr_credit_limit - bill_amount_last",
                         "meaning": "credit limit left after the latest bill"},
            "prev_bill_to_credit_limit": {"expr": "bill_amount_prev / attr_credit_limit",
                                          "meaning": "previous bill over the credit limit"},
        },
        "lightgbm_by_task": {"arrears": {"learning_rate": 0.02, "n_estimators": 400, "num_leaves": 7,
                                         "min_child_samples": 150, "colsample_bytree": 0.3}},
        "histgb_by_task": {"arrears": {"max_iter": 400, "learning_rate": 0.03, "max_leaf_nodes": 7,
                                       "min_samples_leaf": 150, "max_features": 0.3}},
        "logistic_by_task": {"arrears": {"transform": "quantile"}},
    },
}
