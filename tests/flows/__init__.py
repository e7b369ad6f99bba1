"""Flow tests: the PTB Application in-process, talking to the fake Bot API core."""
