"""Benchmarks: scripts that print tables and compare against a baseline in the same run."""
