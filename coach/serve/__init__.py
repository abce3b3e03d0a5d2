"""`coach serve`: every routine as a podcast feed and a web player on the local network."""
