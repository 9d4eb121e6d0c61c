"""The scoring area."""
