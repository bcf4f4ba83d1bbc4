"""The conversation: onboarding, settings, answers to free text, and the reminder forms inside
it (`dialogue`); what is kept about each person between messages and where (`sessions`); time
zones found from what a person types or shares (`timezones`).

Above the reminders (their forms live in a person's session), below the caregivers and the
companion. Pure but for the session store: it never sends anything and reads the clock only
through the one it is given.
"""
