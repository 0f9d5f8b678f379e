"""The code of the registered forecasters `powerlens-forecast-hourly` and
`powerlens-forecast-monthly` (MLflow "models from code": MLflow runs this file when it loads
the model; nothing in powerlens imports it, so it has no effect on powerlens' own imports).

    model = mlflow.pyfunc.load_model("models:/powerlens-forecast-hourly@champion")
    model.predict(frame, params={"origin": "2007-06-01", "weather": "scenario"})

`frame`: one row per region and hour, columns region, ts (hour beginning), load_kw (missing or
absent from the origin on: it is never read) and temperature_c (the region's; after the origin
the weather forecast when weather is `given`). The result has the columns of `powerlens forecast`.
"""

from __future__ import annotations

import mlflow
import pandas as pd


class Forecaster(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        from powerlens.forecast import store

        self.kind, self.fitted, self.settings = store.load(context.artifacts["forecaster"])

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        from powerlens.errors import InvalidInput
        from powerlens.forecast.hourly import HOURLY_COLUMNS, forecast_origin
        from powerlens.forecast.monthly import monthly_forecast
        from powerlens.forecast.panel import Panel, load_matrix

        params = params or {}
        if "origin" not in params:
            raise InvalidInput("params must give the origin (YYYY-MM-DD)")
        origin = pd.Timestamp(params["origin"])
        frame = model_input.assign(ts=pd.to_datetime(model_input["ts"]), region=model_input["region"].astype(str))
        load = load_matrix(frame.assign(outage=False).dropna(subset=["load_kw"]))
        temperature = frame.pivot(index="ts", columns="region", values="temperature_c").sort_index()
        panel = Panel(load=load, temperature=temperature, holidays=frozenset(), stations={})
        if self.kind == "monthly":
            return monthly_forecast(panel, origin, int(params.get("horizon_months", 12)), self.settings)
        if list(load.columns) + ["total"] != self.fitted.names:
            raise InvalidInput(f"this forecaster knows the regions {self.fitted.names[:-1]}, got {list(load.columns)}")
        out = forecast_origin(self.fitted, panel, origin, params.get("weather", "scenario"), self.settings)
        return out[HOURLY_COLUMNS]


mlflow.models.set_model(Forecaster())
