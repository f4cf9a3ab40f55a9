"""Uploads: validation, the image pipeline, storage keys and signed media URLs."""
