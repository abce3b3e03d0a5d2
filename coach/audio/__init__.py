"""Sound: beeps, the music bed, the mixer, loudness, and live playback on an audio device."""
