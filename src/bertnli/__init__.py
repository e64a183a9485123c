"""bertnli: fine-tune a pretrained BERT for natural language inference on SNLI.

Module map (one job each):

- ``vocab``      ``Vocab``: tokens <-> ids, d2l's ``vocab.json`` format.
- ``model``      ``BERTModel`` (d2l-compatible state dict, SDPA attention), ``devices()``.
- ``pretrained`` ``load_pretrained()``: a registry name, folder or zip -> (model, vocab).
- ``hub``        downloads and the cache: registry with sha1s, mirrors, offline placement.
- ``sample``     the embedded offline sample: tiny checkpoint + template SNLI corpus.
- ``cli``        ``python -m bertnli ...`` / the ``bertnli`` console script.
"""

from .model import BERTConfig, BERTModel, count_parameters, devices
from .pretrained import KNOWN_CONFIGS, load_pretrained
from .vocab import Vocab

__version__ = "0.1.0"
