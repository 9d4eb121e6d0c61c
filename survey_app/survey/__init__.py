"""The survey area."""
