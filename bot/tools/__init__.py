"""Tools for the engineers who run the bot: evaluation, calibration and the benchmark.

They measure the core; nothing a person talks to imports them.
"""
