"""From corpus files to batches: NLI corpus readers, pair packing and truncation, the
tokenized dataset with its cache, and the padding loader.

The module map is in ``bertnli/__init__.py``."""
