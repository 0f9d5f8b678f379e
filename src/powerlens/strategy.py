"""The strategy playbook (playbook.yaml) applied to segments and risk scores.

`load_playbook` reads and validates the playbook, `tier_strategy` gives the strategy of one
value x credit cell, `plan_actions` turns segments + scores into a capped, ranked action list
where every row carries its reasons (and, where the playbook asks for one, a random holdout
left untreated so the action's effect can be measured). `action_groups` keeps the eligible
customers beyond capacity too. What happened afterwards (`outcome_flags`, `review_actions`,
`review_readings`) lives in `powerlens.outcomes`; the names stay importable from here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from powerlens.errors import InvalidInput, MissingInput, read_yaml
from powerlens.outcomes import GROUPS, OUTCOMES, outcome_flags, review_actions, review_readings
from powerlens.rules import CREDIT_GRADES, TASKS, VALUE_TIERS, probability_text

__all__ = [
    "load_playbook", "validate_playbook", "tier_strategy", "plan_actions", "action_groups", "holdout_draw",
    "ACTION_COLUMNS", "MAX_HOLDOUT_SHARE",
    # what happened afterwards (powerlens.outcomes) and the shared words (powerlens.rules), kept here
    "OUTCOMES", "GROUPS", "outcome_flags", "review_actions", "review_readings",
    "TASKS", "VALUE_TIERS", "CREDIT_GRADES",
]

ACTION_COLUMNS = ["customer_id", "action", "rank", "priority_score", "reasons", "holdout", "act_by"]
_ACTION_KEYS = {"name", "description", "description_zh", "when", "capacity", "rank_by", "reason_column", "outcome",
                "holdout_share", "act_within_days"}
# a tier cell's keys: its strategy and why, and optionally both in Chinese (the report in Chinese)
_TIER_KEYS = {"strategy", "why", "strategy_zh", "why_zh"}
MAX_HOLDOUT_SHARE = 0.5
_SCORE_RANKS = {"score", "expected_revenue"}


def load_playbook(path: str | Path) -> dict[str, Any]:
    """Read a playbook YAML file and validate it (InvalidInput naming the bad key)."""
    path = Path(path)
    if not path.exists():
        raise MissingInput(f"playbook not found: {path}")
    playbook = read_yaml(path)
    validate_playbook(playbook)
    return playbook


def validate_playbook(playbook: Any) -> None:
    """Check the playbook's structure; raise InvalidInput naming the first bad key."""
    if not isinstance(playbook, dict):
        raise InvalidInput("playbook: must be a mapping with keys 'tiers' and 'actions'")
    for key in ("tiers", "actions"):
        if key not in playbook:
            raise InvalidInput(f"playbook: missing key '{key}'")
    tiers = playbook["tiers"]
    if not isinstance(tiers, dict):
        raise InvalidInput("playbook: 'tiers' must be a mapping of value tier -> credit grade")
    for tier in VALUE_TIERS:
        cells = tiers.get(tier)
        if not isinstance(cells, dict):
            raise InvalidInput(f"playbook: missing key 'tiers.{tier}'")
        for grade in CREDIT_GRADES:
            cell = cells.get(grade)
            if not isinstance(cell, dict) or not isinstance(cell.get("strategy"), str):
                raise InvalidInput(f"playbook: 'tiers.{tier}.{grade}.strategy' must be a string")
            unknown = set(cell) - _TIER_KEYS
            if unknown:
                raise InvalidInput(f"playbook: unknown key 'tiers.{tier}.{grade}.{sorted(unknown)[0]}'")
            for key in ("why", "strategy_zh", "why_zh"):
                if key in cell and not isinstance(cell[key], str):
                    raise InvalidInput(f"playbook: 'tiers.{tier}.{grade}.{key}' must be a string")
    actions = playbook["actions"]
    if not isinstance(actions, list):
        raise InvalidInput("playbook: 'actions' must be a list")
    names: set[str] = set()
    for i, action in enumerate(actions):
        where = f"actions[{i}]"
        if not isinstance(action, dict):
            raise InvalidInput(f"playbook: '{where}' must be a mapping")
        unknown = set(action) - _ACTION_KEYS
        if unknown:
            raise InvalidInput(f"playbook: unknown key '{where}.{sorted(unknown)[0]}'")
        for key in ("description", "description_zh"):
            if key in action and not isinstance(action[key], str):
                raise InvalidInput(f"playbook: '{where}.{key}' must be a string")
        name = action.get("name")
        if not isinstance(name, str) or not name:
            raise InvalidInput(f"playbook: '{where}.name' must be a non-empty string")
        if name in names:
            raise InvalidInput(f"playbook: duplicate action name '{where}.name' = {name!r}")
        names.add(name)
        where = f"actions[{i}] ({name})"
        capacity = action.get("capacity")
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
            raise InvalidInput(f"playbook: '{where}.capacity' must be a non-negative integer")
        rank_by = action.get("rank_by")
        if not isinstance(rank_by, str) or not rank_by:
            raise InvalidInput(f"playbook: '{where}.rank_by' must be a column name")
        when = action.get("when")
        if not isinstance(when, dict) or not when:
            raise InvalidInput(f"playbook: '{where}.when' must be a non-empty mapping")
        _validate_when(when, f"{where}.when")
        if rank_by in _SCORE_RANKS and "task" not in when:
            raise InvalidInput(f"playbook: '{where}.rank_by' = {rank_by!r} needs 'when.task'")
        if "reason_column" in action and not isinstance(action["reason_column"], str):
            raise InvalidInput(f"playbook: '{where}.reason_column' must be a column name")
        if "outcome" in action and action["outcome"] not in OUTCOMES:
            raise InvalidInput(f"playbook: '{where}.outcome' must be one of {list(OUTCOMES)}")
        share = action.get("holdout_share", 0.0)
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= MAX_HOLDOUT_SHARE:
            raise InvalidInput(f"playbook: '{where}.holdout_share' must be a number in [0, {MAX_HOLDOUT_SHARE}]")
        days = action.get("act_within_days", 1)
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise InvalidInput(f"playbook: '{where}.act_within_days' must be a whole number of days, at least 1")


def _validate_when(when: dict[str, Any], where: str) -> None:
    for key, value in when.items():
        if key == "task":
            if value not in TASKS:
                raise InvalidInput(f"playbook: '{where}.task' must be one of {list(TASKS)}")
        elif key == "min_score":
            if "task" not in when:
                raise InvalidInput(f"playbook: '{where}.min_score' needs 'task'")
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise InvalidInput(f"playbook: '{where}.min_score' must be a number in [0, 1]")
        elif key == "flag":
            if not isinstance(value, str):
                raise InvalidInput(f"playbook: '{where}.flag' must be a column name")
        elif key in ("min", "max"):
            if not isinstance(value, dict) or not value:
                raise InvalidInput(f"playbook: '{where}.{key}' must be a mapping column -> number")
            for column, bound in value.items():
                if isinstance(bound, bool) or not isinstance(bound, int | float):
                    raise InvalidInput(f"playbook: '{where}.{key}.{column}' must be a number")
        elif not isinstance(value, list) or not value:
            raise InvalidInput(f"playbook: '{where}.{key}' must be a non-empty list of values")


def tier_strategy(value_tier: str, credit_grade: str, playbook: dict[str, Any]) -> str:
    """The short strategy name of one value tier x credit grade cell."""
    try:
        return playbook["tiers"][value_tier][credit_grade]["strategy"]
    except (KeyError, TypeError):
        raise InvalidInput(
            f"playbook: no strategy for 'tiers.{value_tier}.{credit_grade}'"
        ) from None


def plan_actions(
    segments: pd.DataFrame,
    scores: pd.DataFrame,
    playbook: dict[str, Any],
    features: pd.DataFrame | None = None,
    holdout_salt: str = "",
    plan_date: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """One row per (customer_id, action): eligible customers ranked and capped per action.

    Columns: customer_id, action, rank (1 = first), priority_score (the `rank_by` value),
    reasons, holdout, act_by (the plan date plus the action's `act_within_days`, YYYY-MM-DD;
    empty without either: an escalation step's deadline). Condition columns missing from `segments` are taken from `features`
    (latest `as_of` per customer); a column found in neither raises InvalidInput. With a
    `holdout_share`, a random share of the ranked customers is kept as a holdout (holdout =
    True: leave them untreated) and the list goes on until `capacity` customers are to be
    treated; `holdout_salt` (the plan's date) makes the draw repeatable and new each period.
    """
    groups = action_groups(segments, scores, playbook, features, holdout_salt)
    planned = groups[groups["group"].isin(["acted", "holdout"])]
    out = planned.assign(holdout=planned["group"] == "holdout")
    deadlines = {a["name"]: ("" if plan_date is None or "act_within_days" not in a else
                             (pd.Timestamp(plan_date) + pd.Timedelta(days=a["act_within_days"])).date().isoformat())
                 for a in playbook["actions"]}
    out = out.assign(act_by=out["action"].map(deadlines).fillna(""))
    return out[ACTION_COLUMNS].astype(_ACTION_DTYPES).reset_index(drop=True)


def action_groups(
    segments: pd.DataFrame,
    scores: pd.DataFrame,
    playbook: dict[str, Any],
    features: pd.DataFrame | None = None,
    holdout_salt: str = "",
) -> pd.DataFrame:
    """Every eligible customer of every action, ranked, with its group: `acted` (on the list),
    `holdout` (drawn at random from the list's rank range and left untreated) or
    `next_in_line` (eligible but over capacity). The plan is acted + holdout; the others are
    what a later review compares the list with."""
    validate_playbook(playbook)
    segments = _with_feature_columns(segments, playbook, features)
    frames = [_rank_one(segments, scores, action, holdout_salt) for action in playbook["actions"]]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _GROUP_DTYPES.items()})
    return pd.concat(frames, ignore_index=True).astype(_GROUP_DTYPES)[list(_GROUP_DTYPES)]


_ACTION_DTYPES = {
    "customer_id": "object",
    "action": "object",
    "rank": "int64",
    "priority_score": "float64",
    "reasons": "object",
    "holdout": "bool",
    "act_by": "object",
}
_GROUP_DTYPES = {k: v for k, v in _ACTION_DTYPES.items() if k not in ("holdout", "act_by")} | {"group": "object"}


def holdout_draw(customer_ids: pd.Series, action: str, salt: str) -> np.ndarray:
    """A uniform number in [0, 1) per customer from a hash of (salt, action, customer): the
    same plan date gives the same draw, another date a fresh one."""
    return np.array([
        int.from_bytes(hashlib.sha256(f"{salt}|{action}|{cid}".encode()).digest()[:8], "big") / 2.0**64
        for cid in customer_ids.astype(str)
    ])


def _needed_columns(action: dict[str, Any]) -> set[str]:
    when = action["when"]
    cols = {k for k in when if k not in ("task", "min_score", "flag", "min", "max")}
    cols |= set(when.get("min", {})) | set(when.get("max", {}))
    if "flag" in when:
        cols.add(when["flag"])
    if action["rank_by"] not in _SCORE_RANKS:
        cols.add(action["rank_by"])
    if action["rank_by"] == "expected_revenue":
        cols.add("revenue_12m")
    if "reason_column" in action:
        cols.add(action["reason_column"])
    return cols


def _with_feature_columns(
    segments: pd.DataFrame, playbook: dict[str, Any], features: pd.DataFrame | None
) -> pd.DataFrame:
    needed = set().union(*(_needed_columns(a) for a in playbook["actions"])) if playbook["actions"] else set()
    missing = sorted(needed - set(segments.columns))
    if not missing or features is None:
        return segments
    take = [c for c in missing if c in features.columns]
    if not take:
        return segments
    feats = features
    if "as_of" in feats.columns:
        feats = feats.sort_values("as_of").drop_duplicates("customer_id", keep="last")
    return segments.merge(feats[["customer_id", *take]], on="customer_id", how="left")


def _rank_one(segments: pd.DataFrame, scores: pd.DataFrame, action: dict[str, Any],
              holdout_salt: str) -> pd.DataFrame:
    name, when, rank_by = action["name"], action["when"], action["rank_by"]
    for column in sorted(_needed_columns(action)):
        if column not in segments.columns:
            raise InvalidInput(
                f"playbook: action '{name}' needs column '{column}', not in segments or features"
            )
    cand = segments
    if "task" in when:
        keep = ["customer_id", "score", "reasons"] + (["rank"] if "rank" in scores.columns else [])
        task_scores = scores.loc[scores["task"] == when["task"], keep]
        task_scores = task_scores.rename(columns={"reasons": "_score_reasons", "rank": "_score_rank"})
        cand = cand.merge(task_scores, on="customer_id", how="inner")
        cand = cand[pd.to_numeric(cand["score"], errors="coerce") >= when.get("min_score", 0.0)]
    if "flag" in when:
        cand = cand[cand[when["flag"]].fillna(False).astype(bool)]
    for column, bound in when.get("min", {}).items():
        cand = cand[pd.to_numeric(cand[column], errors="coerce") >= bound]
    for column, bound in when.get("max", {}).items():
        cand = cand[pd.to_numeric(cand[column], errors="coerce") <= bound]
    member_keys = [k for k in when if k not in ("task", "min_score", "flag", "min", "max")]
    for column in member_keys:
        cand = cand[cand[column].isin(when[column])]
    if cand.empty:
        return pd.DataFrame(columns=list(_GROUP_DTYPES))

    if rank_by == "expected_revenue":
        priority = pd.to_numeric(cand["score"], errors="coerce") * pd.to_numeric(cand["revenue_12m"], errors="coerce").fillna(0.0)
    else:
        priority = pd.to_numeric(cand[rank_by], errors="coerce")
    cand = cand.assign(_priority=priority.fillna(-np.inf).astype(float))

    if "reason_column" in action:
        reasons = cand[action["reason_column"]].fillna("").astype(str)
    else:
        reasons = _condition_reasons(cand, when, member_keys)
    cand = cand.assign(_reasons=reasons)

    cand = _ranked(cand)
    ids = cand["customer_id"].astype(str)
    share = float(action.get("holdout_share", 0.0))
    held = holdout_draw(ids, name, holdout_salt) < share if share > 0 else np.zeros(len(cand), dtype=bool)
    treated_so_far = np.cumsum(~held)
    capacity = int(action["capacity"])
    # the list runs until `capacity` customers are to be treated; holdouts drawn on the way stay in it
    on_list = (treated_so_far <= capacity) & ~((treated_so_far == capacity) & held) if capacity else \
        np.zeros(len(cand), dtype=bool)
    group = np.where(on_list, np.where(held, "holdout", "acted"), "next_in_line")
    return pd.DataFrame(
        {
            "customer_id": ids.to_numpy(),
            "action": name,
            "rank": np.arange(1, len(cand) + 1),
            "priority_score": cand["_priority"].replace(-np.inf, np.nan).to_numpy(),
            "reasons": cand["_reasons"].to_numpy(),
            "group": group,
        }
    )


def _ranked(cand: pd.DataFrame) -> pd.DataFrame:
    """The candidates by descending priority, one row per customer. Equal priorities keep the
    model's order where the action comes from a score (the scores' rank: the raw score behind
    equal calibrated scores, then a hash of the features), then a hash of the candidate's
    segment and feature values (`features.engine.row_fingerprint`, which the pseudonym key does
    not decide), and only customers whose values are all identical by customer id."""
    from powerlens.features.engine import row_fingerprint

    score_rank = (pd.to_numeric(cand["_score_rank"], errors="coerce").fillna(np.inf)
                  if "_score_rank" in cand.columns else pd.Series(0.0, index=cand.index))
    values = cand.drop(columns=[c for c in cand.columns if c.startswith("_")])
    fingerprint = row_fingerprint(values) if len(values.columns) > 1 else np.zeros(len(cand), dtype=np.uint64)
    order = np.lexsort((cand["customer_id"].astype(str).to_numpy(), fingerprint, score_rank.to_numpy(),
                        -cand["_priority"].to_numpy(dtype=float)))
    return cand.iloc[order].drop_duplicates("customer_id")


def _condition_reasons(cand: pd.DataFrame, when: dict[str, Any], member_keys: list[str]) -> pd.Series:
    """Reason text per candidate: the score's reason codes, then each condition met."""

    def num(column: str) -> pd.Series:
        return pd.to_numeric(cand[column], errors="coerce").map(lambda v: f"{v:.2f}").astype(str)

    parts: list[pd.Series] = []
    if "task" in when:
        risk = pd.to_numeric(cand["score"], errors="coerce").map(probability_text).astype(str)
        parts.append(f"{when['task']} risk " + risk + ": " + cand["_score_reasons"].fillna("").astype(str))
    if "flag" in when:
        parts.append(pd.Series(when["flag"].replace("_", " "), index=cand.index))
    for column, bound in when.get("min", {}).items():
        parts.append(f"{column} " + num(column) + f" >= {bound}")
    for column, bound in when.get("max", {}).items():
        parts.append(f"{column} " + num(column) + f" <= {bound}")
    for column in member_keys:
        parts.append(f"{column.replace('_', ' ')} " + cand[column].astype(str))
    reasons = parts[0]
    for part in parts[1:]:
        reasons = reasons + "; " + part
    return reasons
