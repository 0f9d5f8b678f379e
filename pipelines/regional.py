"""DVC stage `regional`: regional load and sales per region and month, new-load steps, line loss next to the theft scores. The work is in powerlens.jobs.regional."""

from powerlens.jobs.common import entry
from powerlens.jobs.regional import main

if __name__ == "__main__":
    entry(main)
