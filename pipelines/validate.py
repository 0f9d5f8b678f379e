"""DVC stage `validate`: import the source named by data.source into anonymized, validated canonical tables. The work is in powerlens.jobs.validate."""

from powerlens.jobs.common import entry
from powerlens.jobs.validate import main

if __name__ == "__main__":
    entry(main)
