"""The frameworks area."""
