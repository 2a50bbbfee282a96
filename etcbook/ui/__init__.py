"""The desktop app: PySide6 widgets over the store, the engine and the planner.

Thin by design: widgets call functions in :mod:`etcbook.models` and :mod:`etcbook.domain`;
they never compute money or points and never write SQL. Heavy modules (matplotlib, reportlab,
SQLModel) are imported when first needed so that the window appears quickly.
"""
