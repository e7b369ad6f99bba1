"""End-to-end tests: `postcoach run` as a real process against the loopback fake Bot API."""
