"""Files: the exported track (MP3 through libmp3lame, other formats through ffmpeg), its tags, chapters and cover."""
