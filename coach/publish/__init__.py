"""`coach publish`: every routine as a static site (feed, episodes, pages, the offline web app) for any web host."""
