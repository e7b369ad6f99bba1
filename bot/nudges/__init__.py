"""Nudges: the use cases (`service`), the ideas and tones (`compose`), the text and buttons
(`view`), the scheduled sends the tick calls (`dispatch`) and the weekly schedule maths
(`schedule`)."""
