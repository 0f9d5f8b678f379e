"""DVC stage `report`: render the strategy report of a period from its snapshot (argument: YYYY-MM). The work is in powerlens.jobs.report."""

from powerlens.jobs.common import entry
from powerlens.jobs.report import main

if __name__ == "__main__":
    entry(main)
