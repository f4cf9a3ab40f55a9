"""Feeds: the home timeline (hybrid fan-out), the ranked feed and explore."""
