"""DVC stage `features`: customer features at each cut-off, point-in-time correct. The work is in powerlens.jobs.features."""

from powerlens.jobs.common import entry
from powerlens.jobs.features import main

if __name__ == "__main__":
    entry(main)
