"""Replies: the content library (`content/` loaded and checked, the one string lookup), the
composer that turns a core Decision into messages, and the message values every part returns.

Below the features, above the core: it never decides a safety level and never reads a clock.
"""
