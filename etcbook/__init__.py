"""etcbook: ETC toll and ETCマイレージ bookkeeping, offline."""

__version__ = "0.1.0"
