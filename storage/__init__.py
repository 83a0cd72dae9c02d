"""Persistence: SQLAlchemy 2 models with repositories per aggregate, the key-value store, migrations."""
