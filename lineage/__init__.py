"""Lineage edges between datasets, model versions and runs; traversal and exports."""
