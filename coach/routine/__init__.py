"""What the user writes: a routine file read, checked and resolved into a Routine (no other stage imported)."""
