"""The publication area."""
