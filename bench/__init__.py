"""Benchmarks: scripts that print figures and write them as JSON (never timed assertions)."""
