"""DVC stage `forecast`: hourly and monthly load forecasts per region and total, backtested and compared in MLflow. The work is in powerlens.jobs.forecast."""

from powerlens.jobs.common import entry
from powerlens.jobs.forecast import main

if __name__ == "__main__":
    entry(main)
