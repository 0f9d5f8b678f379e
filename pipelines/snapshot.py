"""DVC stage `snapshot`: everything the report of a period shows (argument: YYYY-MM). The work is in powerlens.jobs.snapshot."""

from powerlens.jobs.common import entry
from powerlens.jobs.snapshot import main

if __name__ == "__main__":
    entry(main)
