"""postcoach's tests: unit, flows (in-process), e2e (real process), and the fake Bot API."""
