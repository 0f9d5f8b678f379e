"""Coherent forecasts: the regions add up to the total exactly, by reconciliation of the base
forecasts of every series (regions and total), not by accident.

For a one-level hierarchy (total = sum of m regions) with summing matrix S ((m+1) x m), every
method maps base forecasts y^ to bottom-level forecasts b~ = P y^ with P = (S' W^-1 S)^-1 S' W^-1,
and the coherent forecasts are S b~ (Wickramasuriya, Athanasopoulos & Hyndman 2019):
- `bottom_up`: b~ = the regions' base forecasts (the total's own forecast is ignored);
- `ols`: W = I;
- `wls`: W = the diagonal of the base forecasts' error variances (from the calibration window);
- `mint_shrink`: W = their error covariance, shrunk towards its diagonal (Schaefer & Strimmer).
Regions that would come out negative are set to zero and the total is their sum again.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Method = Literal["bottom_up", "ols", "wls", "mint_shrink"]
METHODS: tuple[str, ...] = ("bottom_up", "ols", "wls", "mint_shrink")


def shrunk_covariance(errors: np.ndarray) -> np.ndarray:
    """Error covariance (hours x series, NaN rows dropped) shrunk towards its diagonal with the
    Schaefer-Strimmer intensity."""
    e = errors[~np.isnan(errors).any(axis=1)]
    n = len(e)
    if n < 3:
        return np.diag(np.nanvar(errors, axis=0) + 1e-9)
    e = e - e.mean(axis=0)
    cov = e.T @ e / n
    sd = np.sqrt(np.diag(cov)) + 1e-12
    std = e / sd
    corr = std.T @ std / n
    w = (std[:, :, None] * std[:, None, :])
    var_corr = n / (n - 1) ** 3 * ((w - corr) ** 2).sum(axis=0)
    off = ~np.eye(len(corr), dtype=bool)
    lam = float(np.clip(var_corr[off].sum() / max((corr[off] ** 2).sum(), 1e-12), 0, 1))
    shrunk = corr * (1 - lam)
    np.fill_diagonal(shrunk, 1.0)
    return shrunk * np.outer(sd, sd)


def projection(method: str, n_regions: int, errors: np.ndarray | None = None) -> np.ndarray:
    """P (m x (m+1)): base forecasts (regions then total) to the regions' coherent forecasts."""
    m = n_regions
    if method == "bottom_up":
        return np.hstack([np.eye(m), np.zeros((m, 1))])
    S = np.vstack([np.eye(m), np.ones((1, m))])
    if method == "ols":
        W = np.eye(m + 1)
    elif method in ("wls", "mint_shrink"):
        if errors is None:
            raise ValueError(f"reconciliation {method!r} needs the base forecasts' errors")
        if method == "wls":
            W = np.diag(np.nanvar(errors, axis=0) + 1e-9)
        else:
            W = shrunk_covariance(errors)
    else:
        raise ValueError(f"unknown reconciliation {method!r}; one of {', '.join(METHODS)}")
    Winv = np.linalg.pinv(W)
    return np.linalg.solve(S.T @ Winv @ S, S.T @ Winv)


def reconcile(base: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Base forecasts (hours x (regions then total)) to coherent ones of the same shape: the
    regions (never negative) and their exact sum."""
    filled = base.copy()
    m = P.shape[0]
    # a missing base forecast of a region: its share of the total's forecast is unknown, so the
    # regions stay as they are (the total is their sum)
    regions = np.where(np.isnan(filled[:, :m]), np.nan, 0.0)
    ok = ~np.isnan(filled).any(axis=1)
    regions[ok] = filled[ok] @ P.T
    regions[~ok] = filled[~ok, :m]
    regions = np.clip(regions, 0, None)
    return np.column_stack([regions, regions.sum(axis=1)])
