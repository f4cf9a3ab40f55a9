"""Users, sessions, passwords, profiles and roles."""
