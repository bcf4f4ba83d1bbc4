"""The transport-free core: normalise, triage, guards, matcher and the engine that joins them.

Pure after loading: no I/O, no clock, no state. Nothing here knows about Telegram, storage or
reminders; every door reaches it through `bot.core.engine.Engine`.
"""
