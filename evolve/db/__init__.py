"""The program database: SQLAlchemy models, versioned migrations and the store's operations."""

from evolve.db.engine import StoreError, database_url, open_engine
from evolve.db.migrations import MIGRATIONS, migrate
from evolve.db.store import ProgramStore

__all__ = ["MIGRATIONS", "ProgramStore", "StoreError", "database_url", "migrate", "open_engine"]
