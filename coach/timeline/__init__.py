"""What happens when: a Routine compiled into a script and scheduled into a Timeline of cues, chapters and beeps."""
