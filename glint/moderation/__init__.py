"""Administration: the dead-letter queue today; reports, bans and roles as they come."""
