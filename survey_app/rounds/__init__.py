"""The rounds area."""
