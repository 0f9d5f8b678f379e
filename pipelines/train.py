"""DVC stage `train`: compare model families for one task (argument: the task), log to MLflow, apply the champion rule. The work is in powerlens.jobs.train."""

from powerlens.jobs.common import entry
from powerlens.jobs.train import main

if __name__ == "__main__":
    entry(main)
