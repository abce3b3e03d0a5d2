"""The terminal front end of a live session: the screen, the keys and the loop that follows the player."""
