"""The store: SQLModel tables, opening and migrating, keyword-only queries.

Importing this package registers every table module in it on ``SQLModel.metadata``.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in {"migrations"}:
        importlib.import_module(f"{__name__}.{_module.name}")
