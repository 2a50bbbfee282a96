"""The widgets of the pages (the modules in :mod:`etcbook.ui.pages` only register them)."""
