"""DVC stage `segment`: value x credit tiers, big / latent big customers, load shapes. The work is in powerlens.jobs.segment."""

from powerlens.jobs.common import entry
from powerlens.jobs.segment import main

if __name__ == "__main__":
    entry(main)
