"""What the chapters show and hand out: figures, widgets, fonts, Korean text helpers,
computed prose, exercises, and the classroom kit.

The module map is in ``bertnli/__init__.py``."""
