"""The core area."""
