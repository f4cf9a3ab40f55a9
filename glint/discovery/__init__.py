"""Discovery: search, hashtag pages and followed hashtags, trends and suggestions."""
