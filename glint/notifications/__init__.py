"""Notifications: created by background jobs, grouped, counted unread, marked read."""
