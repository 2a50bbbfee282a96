"""The PySide6 window: thin widgets over etcbook.models and etcbook.domain."""
