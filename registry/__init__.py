"""Registered models, model versions, aliases, datasets and artifacts (event-sourced)."""
