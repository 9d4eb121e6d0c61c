"""The privacy area."""
