"""Caregivers: linking by invitation and consent, alerts that close the loop, the withdrawal
checklist, the history and its files for the clinic, and the emergency card.

Rules are pure (`rules`, `checklist`); `service` keeps them in the store; `flows` are the
conversations. Above the reminders (it reads their plans and ladder), below the companion; it
holds no user-facing text (content/care.yaml, content/checklist.yaml) and never interprets a dose.
"""
