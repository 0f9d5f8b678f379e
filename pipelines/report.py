"""DVC stage `report`: render the strategy report for `report.period`."""

from pathlib import Path

from powerlens import stages

if __name__ == "__main__":
    p = stages.params()["report"]
    stages.report(p["period"], Path("data"), Path("reports"), None, p["top_n"], p["min_group_size"],
                  metrics=Path("metrics/report.json"))
