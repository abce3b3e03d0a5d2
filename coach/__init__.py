"""coach: a voice-guided audio coach for runners' mobility work."""

__version__ = "0.1.0"
