"""Glint: an open-source photo-sharing platform."""
