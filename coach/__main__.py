"""`python -m coach`: the command line."""

from coach.launch import main

main()
