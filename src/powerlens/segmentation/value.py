"""Customer value x credit tiers, big customers (per-region rules, apparent power, over-contract
use, month-on-month changes), latent big customers and the Pareto curve."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.errors import InvalidInput, PowerlensError


def _pct(values: pd.Series) -> pd.Series:
    """Percentile rank in [0, 1]; missing values sit in the middle."""
    return values.rank(pct=True, method="average").fillna(0.5)


class WeightsError(PowerlensError, ValueError):
    """The value weights in params.yaml cannot be used (unknown method, missing or inconsistent judgments)."""


# Saaty's random consistency index by matrix size (AHP)
RANDOM_INDEX = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49}
METHODS = ("manual", "entropy", "ahp")


def new_installs(feats: pd.DataFrame) -> pd.Series:
    """1 for an account connected in the 12 months before the cut-off (a new install), else 0:
    the `new_installs_12m` count where the features have it, else tenure under a year."""
    if "new_installs_12m" in feats:
        return (feats["new_installs_12m"].fillna(0) > 0).astype(float)
    return (feats["tenure_years"] < 1).astype(float).where(feats["tenure_years"].notna())


def capacity_use(feats: pd.DataFrame) -> pd.Series:
    """Peak demand over contracted capacity: apparent (kVA over kVA, `apparent_power`) where the
    segmentation has added it, else the features' kW over kVA."""
    col = "capacity_utilisation_kva" if "capacity_utilisation_kva" in feats else "capacity_utilisation"
    return feats[col]


def _criteria_values(feats: pd.DataFrame) -> pd.DataFrame:
    """The value criteria as benefit criteria (higher = more value): capacity headroom is the
    unused share of the contracted capacity, new_install marks a connection of the last year."""
    return feats.assign(capacity_headroom=1 - capacity_use(feats).clip(0, 1.5), new_install=new_installs(feats))


def entropy_weights(values: pd.DataFrame) -> dict[str, float]:
    """The entropy weight method: a criterion on which customers differ more (lower Shannon
    entropy of its min-max scaled values, clipped to the 1st-99th percentiles so one extreme
    account does not decide) gets more weight; a constant criterion gets none."""
    n = len(values)
    divergence = {}
    for col in values.columns:
        x = pd.to_numeric(values[col], errors="coerce").astype(float)
        x = x[np.isfinite(x)]
        if len(x) < 2:
            divergence[col] = 0.0
            continue
        lo, hi = np.percentile(x, [1, 99])
        scaled = (x.clip(lo, hi) - lo) / (hi - lo) if hi > lo else x * 0.0
        total = scaled.sum()
        if total <= 0:
            divergence[col] = 0.0
            continue
        p = scaled[scaled > 0] / total
        entropy = float(-(p * np.log(p)).sum() / np.log(max(n, 2)))
        divergence[col] = max(1.0 - entropy, 0.0)
    total = sum(divergence.values())
    if total <= 0:  # every criterion constant: nothing to tell customers apart, weigh alike
        return {k: 1.0 / len(divergence) for k in divergence}
    return {k: v / total for k, v in divergence.items()}


def ahp_weights(judgments: dict[str, float], criteria: list[str], where: str = "ahp") -> tuple[dict[str, float], float]:
    """Weights from AHP pairwise judgments {"a/b": how many times more a matters than b, 1/9..9}:
    the principal eigenvector of the reciprocal matrix, and its consistency ratio. Raises
    WeightsError when a pair is missing or unknown, or when the consistency ratio exceeds 0.1."""
    index = {c: i for i, c in enumerate(criteria)}
    m = len(criteria)
    a = np.ones((m, m))
    given = set()
    for key, value in (judgments or {}).items():
        parts = str(key).split("/")
        if len(parts) != 2 or parts[0] not in index or parts[1] not in index or parts[0] == parts[1]:
            raise WeightsError(f"{where}: {key!r} is not a pair 'a/b' of two of the criteria {', '.join(criteria)}")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise WeightsError(f"{where}: {key} = {value!r} is not a number") from None
        if not 1 / 9 - 1e-9 <= v <= 9 + 1e-9:
            raise WeightsError(f"{where}: {key} = {v:g} is outside Saaty's scale 1/9..9")
        i, j = index[parts[0]], index[parts[1]]
        if frozenset((i, j)) in given:
            raise WeightsError(f"{where}: the pair {parts[0]} / {parts[1]} is judged twice")
        given.add(frozenset((i, j)))
        a[i, j], a[j, i] = v, 1 / v
    missing = [f"{criteria[i]}/{criteria[j]}" for i in range(m) for j in range(i + 1, m)
               if frozenset((i, j)) not in given]
    if missing:
        raise WeightsError(f"{where}: missing pairwise judgment(s) {', '.join(missing)}")
    eigenvalues, eigenvectors = np.linalg.eig(a)
    top = int(np.argmax(eigenvalues.real))
    w = np.abs(eigenvectors[:, top].real)
    w = w / w.sum()
    lambda_max = float(eigenvalues[top].real)
    ci = (lambda_max - m) / (m - 1) if m > 1 else 0.0
    ri = RANDOM_INDEX.get(m, RANDOM_INDEX[10])  # Saaty's index levels off beyond ten criteria
    cr = max(ci / ri, 0.0) if ri > 0 else 0.0  # two criteria are always consistent
    if cr > 0.1:
        # the judgment furthest from what the weights imply is the one to revisit
        dev = np.abs(np.log(a * w[None, :] / w[:, None]))
        i, j = np.unravel_index(np.argmax(np.triu(dev, 1)), dev.shape)
        raise WeightsError(f"{where}: the pairwise judgments are inconsistent (consistency ratio {cr:.2f} > 0.10); "
                           f"revisit {criteria[i]}/{criteria[j]} first")
    return {c: float(w[index[c]]) for c in criteria}, round(float(cr), 4)


def criterion_weights(values: pd.DataFrame, method: str, manual: dict[str, float], judgments: dict | None,
                      where: str, ahp_where: str) -> tuple[dict[str, float], float | None]:
    """One set of criterion weights by `method`: `manual` (the weights given), `entropy` (from
    `values`, the criteria at this cut-off) or `ahp` (from pairwise judgments, checked for
    consistency); with the AHP consistency ratio (None otherwise). `where` / `ahp_where`: the
    params keys the errors name."""
    weights, ratio = dict(manual), None
    if method == "entropy":
        weights = entropy_weights(values.reindex(columns=list(manual)))
    elif method == "ahp":
        weights, ratio = ahp_weights(judgments, list(manual), ahp_where)
    if not weights or sum(weights.values()) <= 0 or min(weights.values()) < 0:
        raise WeightsError(f"{where}: weights must be non-negative and not all zero")
    return weights, ratio


def _not_credit(criteria: dict[str, float], where: str) -> None:
    """Payment punctuality and the other credit features belong to the credit axis only."""
    from powerlens.features.definitions import FEATURES

    for name in criteria:
        if name in FEATURES and FEATURES[name].group == "credit":
            raise WeightsError(f"{where}: {name} is a credit criterion (segment.credit); credit must not count twice")


def value_weights(feats: pd.DataFrame, spec: dict) -> tuple[dict[str, float], dict[str, float], dict]:
    """Current- and potential-value criterion weights by `spec["method"]`: `manual` (the weights
    given), `entropy` (from the data at this cut-off) or `ahp` (from pairwise judgments, checked
    for consistency). Returns both weight sets and what to log (method, consistency ratios).
    A credit feature among the value criteria is refused: credit has its own axis."""
    method = spec["method"]
    if method not in METHODS:
        raise WeightsError(f"segment.value_weights.method {method!r} is not one of {', '.join(METHODS)}")
    info: dict = {"method": method}
    values = _criteria_values(feats) if method == "entropy" else pd.DataFrame()
    judgments = spec.get("ahp") or {}
    sets = {}
    for name in ("current", "potential"):
        where = f"segment.value_weights.{name}"
        _not_credit(spec[name], where)
        sets[name], ratio = criterion_weights(values, method, spec[name], judgments.get(name), where,
                                              f"segment.value_weights.ahp.{name}")
        if ratio is not None:
            info[f"{name}_consistency_ratio"] = ratio
    current, potential = sets["current"], sets["potential"]
    info["current"] = {k: round(v, 4) for k, v in current.items()}
    info["potential"] = {k: round(v, 4) for k, v in potential.items()}
    return current, potential, info


def weights_spec(params: dict) -> dict:
    """The `segment.value_weights` section of the segment params (`cfg.segment.as_dict()`)."""
    return params["value_weights"]


def value_scores(feats: pd.DataFrame, value_weights: dict[str, float],
                 potential_weights: dict[str, float], potential_share: float) -> pd.DataFrame:
    """Current value (what the customer brings now) and potential value (where it is going),
    each a weighted mean of percentile ranks; value_score blends the two."""
    basis = _criteria_values(feats)
    cur = sum(w * _pct(basis[k]) for k, w in value_weights.items()) / sum(value_weights.values())
    pot = sum(w * _pct(basis[k]) for k, w in potential_weights.items()) / sum(potential_weights.values())
    return pd.DataFrame({
        "current_value": cur,
        "potential_value": pot,
        "value_score": (1 - potential_share) * cur + potential_share * pot,
    }, index=feats.index)


def value_tiers(score: pd.Series, quantiles: list[float]) -> pd.Series:
    hi, mid = score.quantile(quantiles[0]), score.quantile(quantiles[1])
    return pd.Series(np.select([score >= hi, score >= mid], ["high", "medium"], "low"), index=score.index)


# ---------------------------------------------------------------------------------------------
# credit

CREDIT_CRITERIA = ("payment_punctuality", "arrears_to_bill", "theft_history", "tenure", "operating_condition")
OPERATING_CONDITION_COLUMNS = ("operating_condition", "attr_operating_condition")


def credit_criteria(feats: pd.DataFrame, arrears_bills_at_zero: float, tenure_years_full: float) -> pd.DataFrame:
    """The credit criteria as scores in [0, 1] (1 = best credit), NaN where a customer has no
    basis for one: payment punctuality (the on-time rate of bills due), arrears relative to the
    bill (1 without arrears, 0 from `arrears_bills_at_zero` average bills owed), theft history
    (0 after a confirmed theft), tenure (years, full from `tenure_years_full`) and, where a
    source has it (a column `operating_condition` in [0, 1]), the operating condition."""
    def column(*names: str) -> pd.Series:  # a source without it: no basis for that criterion
        found = next((feats[c] for c in names if c in feats), None)
        return pd.Series(np.nan, index=feats.index) if found is None else pd.to_numeric(found, errors="coerce")

    arrears, bill, thefts = column("arrears_amount").clip(lower=0), column("bill_amount_mean"), column(
        "theft_confirmed_before")
    bill = bill.where(bill > 0)
    owed = (arrears / bill).where(arrears > 0, 0.0).where(arrears.notna())
    owed = owed.where(~((arrears > 0) & bill.isna()), np.inf)  # arrears without a bill to compare: the worst
    return pd.DataFrame({
        "payment_punctuality": column("on_time_rate").clip(0, 1),
        "arrears_to_bill": 1 - (owed / arrears_bills_at_zero).clip(0, 1),
        "theft_history": (thefts <= 0).astype(float).where(thefts.notna()),
        "tenure": (column("tenure_years") / tenure_years_full).clip(0, 1),
        "operating_condition": column(*OPERATING_CONDITION_COLUMNS).clip(0, 1),
    }, index=feats.index)


def credit_weights(criteria: pd.DataFrame, spec: dict) -> tuple[dict[str, float], dict]:
    """The credit criterion weights by `spec["method"]` (manual / entropy / ahp, as for value)
    and what to log."""
    method = spec["method"]
    if method not in METHODS:
        raise WeightsError(f"segment.credit.method {method!r} is not one of {', '.join(METHODS)}")
    unknown = sorted(set(spec["weights"]) - set(CREDIT_CRITERIA))
    if unknown:
        raise WeightsError(f"segment.credit.weights: {unknown[0]!r} is not a credit criterion "
                           f"({', '.join(CREDIT_CRITERIA)})")
    weights, ratio = criterion_weights(criteria, method, spec["weights"], spec.get("ahp"), "segment.credit.weights",
                                       "segment.credit.ahp")
    info = {"method": method, "weights": {k: round(v, 4) for k, v in weights.items()}}
    if ratio is not None:
        info["consistency_ratio"] = ratio
    return weights, info


def credit_scores(criteria: pd.DataFrame, weights: dict[str, float]) -> pd.Series:
    """The credit score in [0, 1]: the weighted mean of a customer's credit criteria, over the
    criteria it has a basis for (a new account without bills due is judged on the rest)."""
    cols = [c for c in weights if weights[c] > 0]
    x = criteria[cols].to_numpy(dtype=float)
    w = np.array([weights[c] for c in cols], dtype=float)
    have = np.isfinite(x)
    total = (np.where(have, x, 0.0) * w).sum(axis=1)
    norm = (have * w).sum(axis=1)
    return pd.Series(np.where(norm > 0, total / np.where(norm > 0, norm, 1), np.nan), index=criteria.index)


def credit_grades(score: pd.Series, grade_a_min: float, grade_b_min: float) -> pd.Series:
    """A from `grade_a_min`, B from `grade_b_min`, C below (and without any basis for a score)."""
    return pd.Series(np.select([score >= grade_a_min, score >= grade_b_min], ["A", "B"], "C"), index=score.index)


# ---------------------------------------------------------------------------------------------
# big customers

REACTIVE_ENERGY_COLUMNS = ("kvarh_365d", "attr_kvarh_365d")  # reactive energy over the kwh_365d window
REGION_RULE_KEYS = ("min_capacity_kva", "min_peak_kw", "two_part_tariff_only", "min_voltage_kv")


def apparent_power(feats: pd.DataFrame, power_factor_by_class: dict[str, float],
                   power_factor_default: float) -> pd.DataFrame:
    """Each customer's power factor (from its reactive energy where the source has it:
    kWh / sqrt(kWh^2 + kvarh^2); else its class default), its apparent peak demand in kVA
    (peak kW / power factor) and that peak over the contracted kVA."""
    default = feats["customer_class"].map(dict(power_factor_by_class)).astype(float).fillna(power_factor_default)
    pf, source = default, pd.Series("class default", index=feats.index)
    reactive = next((c for c in REACTIVE_ENERGY_COLUMNS if c in feats), None)
    if reactive is not None:
        kwh, kvarh = feats["kwh_365d"].astype(float), pd.to_numeric(feats[reactive], errors="coerce").abs()
        measured = kwh / np.sqrt(kwh**2 + kvarh**2)
        ok = measured.gt(0) & measured.le(1) & kvarh.notna()
        pf = measured.where(ok, default)
        source = source.where(~ok, "reactive energy")
    peak_kva = feats["peak_kw"] / pf
    cap = feats["capacity_kva"].where(feats["capacity_kva"] > 0)
    return pd.DataFrame({"power_factor": pf, "power_factor_source": source, "peak_kva": peak_kva,
                         "capacity_utilisation_kva": peak_kva / cap}, index=feats.index)


def region_rules(regions: pd.Series, rule: dict) -> pd.DataFrame:
    """The big-customer thresholds that apply to each customer: the default rule, overridden by
    `rule["by_region"][region]` where its region has one; `rule_name` says which."""
    out = pd.DataFrame({k: rule.get(k) for k in REGION_RULE_KEYS}, index=regions.index)
    out["rule_name"] = "default"
    for region, override in (rule.get("by_region") or {}).items():
        unknown = sorted(set(override) - set(REGION_RULE_KEYS))
        if unknown:
            raise InvalidInput(f"segment.big_customer.by_region.{region}: unknown key {unknown[0]!r} "
                               f"(valid: {', '.join(REGION_RULE_KEYS)})")
        here = (regions == region).to_numpy()
        for key, value in override.items():
            out.loc[here, key] = value
        out.loc[here, "rule_name"] = str(region)
    out["min_peak_kw"] = pd.to_numeric(out["min_peak_kw"], errors="coerce")
    out["min_voltage_kv"] = pd.to_numeric(out["min_voltage_kv"], errors="coerce").fillna(0.0)
    out["two_part_tariff_only"] = out["two_part_tariff_only"].fillna(False).astype(bool)
    return out


def big_customer_rules(feats: pd.DataFrame, apparent: pd.DataFrame, rule: dict) -> pd.DataFrame:
    """Big customers (大客户) as practice defines them, per region (`region_rules`): contracted
    capacity at or above the region's kVA threshold, or, where the region sets one, measured
    demand at or above its kW threshold within the contract; on the two-part tariff where the
    region requires it, supplied at the region's voltage or higher (an unknown voltage is not
    held against an account). `big_customer_rule` says in words the rule that fired, or why none
    did.

    An account whose apparent peak (`apparent_power`) exceeds its contracted kVA by more than
    `over_contract_tolerance` is flagged `over_contract` (for inspection): using more than it
    contracted does not make it a big customer."""
    r = region_rules(feats["region"].astype(object), rule)
    cap = feats["capacity_kva"].astype(float)
    peak_kw, peak_kva = feats["peak_kw"].astype(float), apparent["peak_kva"].astype(float)
    volt = feats["voltage_kv"].astype(float) if "voltage_kv" in feats else pd.Series(np.nan, index=feats.index)
    tpt = (feats["two_part_tariff"].fillna(False).astype(bool) if "two_part_tariff" in feats
           else pd.Series(False, index=feats.index))
    over = (cap > 0) & (peak_kva > cap * (1 + float(rule.get("over_contract_tolerance", 0.0))))
    tariff_ok = ~r["two_part_tariff_only"] | tpt
    voltage_ok = volt.isna() | (volt >= r["min_voltage_kv"])
    by_capacity = cap.fillna(0) >= r["min_capacity_kva"].astype(float)
    by_demand = r["min_peak_kw"].notna() & (peak_kw >= r["min_peak_kw"]) & ~over
    big = tariff_ok & voltage_ok & (by_capacity | by_demand)
    texts = []
    for c, k, name, tmin, kmin, vmin, v, only, by_cap, by_dem, t_ok, v_ok, o in zip(
            cap, peak_kw, r["rule_name"], r["min_capacity_kva"].astype(float), r["min_peak_kw"], r["min_voltage_kv"],
            volt, r["two_part_tariff_only"], by_capacity, by_demand, tariff_ok, voltage_ok, over, strict=True):
        on = " on the two-part tariff" if only else ""
        if by_cap:
            text = f"capacity {c:g} kVA >= {tmin:g} kVA{on}"
        elif by_dem:
            text = f"demand {k:.0f} kW >= {kmin:g} kW within the contracted {c:g} kVA{on}"
        else:
            text = f"capacity {c:g} kVA < {tmin:g} kVA" if c == c else "no contracted capacity"
            if kmin == kmin:
                text += (f", demand {k:.0f} kW over the contract (over-contract use)" if o and k >= kmin
                         else f", demand {k:.0f} kW < {kmin:g} kW" if k == k else ", no measured demand")
        if (by_cap or by_dem) and not t_ok:
            text += " but not on the two-part tariff"
        elif (by_cap or by_dem) and not v_ok:
            text += f" but supplied at {v:g} kV < {vmin:g} kV"
        texts.append(f"{text} ({name})")
    excess = (peak_kva - cap).where(over)
    reasons = [f"measured demand {a:.0f} kVA ({k:.0f} kW at power factor {pf:.2f}, {src}) is {a / c:.0%} of the "
               f"contracted {c:g} kVA" if o else ""
               for o, a, k, pf, src, c in zip(over, peak_kva, peak_kw, apparent["power_factor"],
                                              apparent["power_factor_source"], cap, strict=True)]
    return pd.DataFrame({"big_customer": big.astype(bool), "big_customer_rule": texts,
                         "over_contract": over.astype(bool), "over_contract_kva": excess,
                         "over_contract_reason": reasons}, index=feats.index)


def big_customer_changes(previous: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Month on month: the accounts entering and leaving the big-customer list between two
    segment tables (columns customer_id, big_customer and, where they have it,
    big_customer_rule), each with its reason: the rule that fired now, or why none does (and
    what it was before); an account no longer in the current table has closed."""
    cols = ["customer_id", "change", "big_customer_rule", "reason"]

    def side(frame: pd.DataFrame) -> pd.DataFrame:
        rule = frame["big_customer_rule"] if "big_customer_rule" in frame else pd.Series("", index=frame.index)
        return pd.DataFrame({"customer_id": frame["customer_id"].astype(str).to_numpy(),
                             "big": frame["big_customer"].fillna(False).astype(bool).to_numpy(),
                             "rule": rule.fillna("").astype(str).to_numpy()})

    both = side(previous).merge(side(current), on="customer_id", how="outer", suffixes=("_before", "_now"),
                                indicator=True)
    was = both["big_before"].fillna(False).astype(bool)
    now = both["big_now"].fillna(False).astype(bool)
    rows = []
    for cid, b, n, before, rule, where in zip(both["customer_id"], was, now, both["rule_before"].fillna(""),
                                              both["rule_now"].fillna(""), both["_merge"], strict=True):
        if b == n:
            continue
        if n:
            reason = rule or "meets the big-customer rule"
            reason += " (a new account)" if where == "right_only" else (f"; before: {before}" if before else "")
            rows.append((cid, "entered", rule, reason))
        elif where == "left_only":
            rows.append((cid, "left", "", "account closed" + (f" (was: {before})" if before else "")))
        else:
            reason = (rule or "no longer meets the big-customer rule") + (f"; before: {before}" if before else "")
            rows.append((cid, "left", rule, reason))
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["change", "customer_id"], ignore_index=True)


# ---------------------------------------------------------------------------------------------
# latent big customers


def latent_big(feats: pd.DataFrame, scores: pd.DataFrame, big: pd.Series, min_current_quantile: float,
               min_potential_quantile: float) -> tuple[pd.DataFrame, dict[str, float]]:
    """Latent big customers: small and medium customers (not big, not residential) in the
    quadrant high on both current and potential value, that is at or above the
    `min_current_quantile` of the eligible customers' current value and the
    `min_potential_quantile` of their potential value (`value_scores`; capacity increase
    requests and new installs feed potential). Ranked by potential value, each with its reasons
    (the two scores against the thresholds, then growth, a well-used connection, requests, a new
    install); and the two thresholds."""
    eligible = ~big.astype(bool) & (feats["customer_class"] != "residential")
    cur, pot = scores["current_value"], scores["potential_value"]
    if eligible.any():
        cur_min, pot_min = cur[eligible].quantile(min_current_quantile), pot[eligible].quantile(min_potential_quantile)
    else:
        cur_min = pot_min = np.inf
    flagged = eligible & (cur >= cur_min) & (pot >= pot_min)
    score = pot.where(eligible)
    rank = score.where(flagged).rank(ascending=False, method="first")
    trend = feats["trend_pct_per_year"]
    recent = feats["recent_change_ratio"] if "recent_change_ratio" in feats else pd.Series(np.nan, index=feats.index)
    util, requests, new = capacity_use(feats), feats["capacity_increase_requests"], new_installs(feats)
    reasons = []
    for f, c, p, t, rc, u, r, ni in zip(flagged, cur, pot, trend, recent, util, requests, new, strict=True):
        if not f:
            reasons.append("")
            continue
        parts = [f"current value {c:.2f} >= {cur_min:.2f}, potential value {p:.2f} >= {pot_min:.2f}"]
        if t == t and t > 10:
            parts.append(f"consumption growing {t:.0f}%/year")
        if rc == rc and rc > 1.1:
            parts.append(f"last 30 days {rc - 1:.0%} above the year's average")
        if u == u and u > 0.6:
            parts.append(f"peak at {u:.0%} of contracted capacity")
        if r > 0:
            parts.append(f"{int(r)} capacity increase request(s)")
        if ni == 1:
            parts.append("connected in the last 12 months")
        reasons.append("; ".join(parts))
    return pd.DataFrame({
        "latent_big_customer": flagged.astype(bool),
        "latent_big_score": score,
        "latent_big_rank": rank,
        "latent_big_reason": reasons,
    }, index=feats.index), {"current_min": float(cur_min), "potential_min": float(pot_min)}


def pareto(revenue: pd.Series) -> tuple[pd.DataFrame, float]:
    """The Pareto curve (share of customers, largest first -> share of revenue) and the share
    of the top 20%; NaN when there is nothing to share."""
    values = np.sort(np.clip(np.asarray(revenue, dtype=float), 0, None))[::-1]
    values = values[np.isfinite(values)]
    total = values.sum()
    if len(values) == 0 or total <= 0:
        return pd.DataFrame({"customer_share": [], "revenue_share": []}), float("nan")
    curve = pd.DataFrame({"customer_share": np.arange(1, len(values) + 1) / len(values),
                          "revenue_share": np.cumsum(values) / total})
    top = int(np.ceil(0.2 * len(values)))
    return curve, float(values[:top].sum() / total)
