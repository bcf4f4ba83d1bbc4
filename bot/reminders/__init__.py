"""Reminders: refill, taper and re-check plans laid out as dated occurrences, the escalation
ladder as data, the service that delivers them (never lost, never doubled), the scheduler that
wakes it, the leader election, the /refill /taper /reminders conversations, their words and the
exports (.ics, taper chart).

Below the conversation and the caregivers; it never decides a dose and holds no text of its own.
"""
