"""Tools for the engineers who run the bot: evaluation, calibration, the benchmark, and the
content check.

They measure the core and the content; nothing a person talks to imports them.
"""
