"""Load forecasts per region and for the system total (issue 15).

- `panel`: the hourly load matrix (gaps and outages missing, never zero) and each region's
  temperature (mapped stations, selected stations, or the region's daily weather);
- `models`: the seasonal naive, Hong's vanilla regression and the global LightGBM model;
- `reconcile`: bottom-up, OLS, WLS and MinT-shrink reconciliation (regions add up to the total);
- `hourly`: 1-14 day forecasts from origins, with `given` or `scenario` weather and 80% intervals;
- `monthly`: 1-12 month energy and peak under weather scenarios;
- `backtest`: rolling-origin backtests (MAPE, MASE, pinball loss, coverage).

docs/forecasting.md explains the choices and gives the GEFCom2012 results.
"""
