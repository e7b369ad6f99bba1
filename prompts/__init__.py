"""Data only: the YAML files with every text a user reads and the checklist rules."""
