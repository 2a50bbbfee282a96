"""Importers: bytes in, validated records and line errors out."""
