"""Photo posts: captions, media, hashtags and mentions; likes, comments and saves come later."""
