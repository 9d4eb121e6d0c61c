"""The experts area."""
