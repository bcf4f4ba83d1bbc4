"""Storage: the one SQL database behind SQLAlchemy, its tables and their Alembic migrations.

Below every feature: it knows tables, transactions and the one `delete_person`, and imports
nothing of the conversation, the reminders or the caregivers.
"""
