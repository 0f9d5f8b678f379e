"""DVC stage `generate`: the raw export of the embedded synthetic utility. The work is in powerlens.jobs.generate."""

from powerlens.jobs.common import entry
from powerlens.jobs.generate import main

if __name__ == "__main__":
    entry(main)
