"""The encoder and what fills it: BERT itself, the classifier on top, pretrained checkpoints
(d2l's format and Hugging Face's), vocabularies and tokenizers.

The module map is in ``bertnli/__init__.py``."""
