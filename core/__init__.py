"""The small shared kernel: domain errors, actors and the clock."""
