"""Stories: 24-hour photo stories, the tray, views, replies, close friends and highlights."""
