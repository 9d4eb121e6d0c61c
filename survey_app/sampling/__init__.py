"""The sampling area."""
