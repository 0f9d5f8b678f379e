"""DVC stage `score`: each task's champion scores the accounts open at the scoring cut-off. The work is in powerlens.jobs.score."""

from powerlens.jobs.common import entry
from powerlens.jobs.score import main

if __name__ == "__main__":
    entry(main)
