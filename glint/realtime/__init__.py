"""Real time: domain events become stream events for the people they concern."""
