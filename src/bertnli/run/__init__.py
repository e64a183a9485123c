"""A fine-tuning run: its settings (profiles, costs), the training loop, its history, the
run folder on disk, evaluation and prediction, and the whole job in one call.

The module map is in ``bertnli/__init__.py``."""
