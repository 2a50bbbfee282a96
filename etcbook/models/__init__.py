"""The store: SQLModel tables, opening and migrating, keyword-only queries.

Each module is imported when it is used, so that a command pays only for the tables and
queries it needs (importing all of them costs most of a command's start-up).
:func:`register_all_tables` puts every table on ``SQLModel.metadata`` for the code that
needs the whole schema (the Alembic environment, schema tests).
"""

import importlib
import pkgutil


def register_all_tables() -> None:
    """Import every module of this package, registering each table on ``SQLModel.metadata``."""
    for module in pkgutil.iter_modules(__path__):
        if module.name != "migrations":
            importlib.import_module(f"{__name__}.{module.name}")
