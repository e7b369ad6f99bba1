"""Nudges: the weekly schedule maths (`schedule`), the dispatch tick and nudge composition."""
