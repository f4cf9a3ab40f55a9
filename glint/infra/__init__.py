"""Adapters: one small interface each, with an embedded and a scale-out implementation."""
