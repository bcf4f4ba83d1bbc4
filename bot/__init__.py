"""Baclofen Companion: a safety-first chatbot for people who take baclofen and their caregivers.

The core (normalise -> triage -> guards -> match -> compose) is transport-free; Telegram, the
local chat and the CLI are thin doors onto it.
"""

__version__ = "0.1.0"
