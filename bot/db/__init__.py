"""Storage: SQLAlchemy models, engine set-up, migrations and queries.

Only this package imports sqlalchemy.
"""
