"""What a member owns of their account: the export of all their data, and its deletion."""
