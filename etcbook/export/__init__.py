"""Exports: claim PDF and CSV, evidence bundles. Everything here writes files atomically."""
