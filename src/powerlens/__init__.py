"""powerlens: research workbench for electricity-utility analysts."""
__version__ = "0.1.0"
