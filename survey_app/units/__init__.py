"""The units area."""
