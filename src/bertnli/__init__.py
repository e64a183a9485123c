"""bertnli: fine-tune a pretrained BERT for natural language inference on SNLI.

Module map (one job each):

- ``vocab``       ``Vocab``: tokens <-> ids, d2l's ``vocab.json`` format.
- ``model``       ``BERTModel`` (d2l-compatible state dict, SDPA attention), ``devices()``.
- ``hardware``    every CUDA-specific call and choice: indexed devices, mixed precision by
                  model width, TF32, attention kernels, padding to a multiple of 8.
- ``attention``   ``pair_attention()``: one pair's attention weights, heatmaps, explorer widget.
- ``pretrained``  ``load_pretrained()``: a registry name, folder or zip -> (model, vocab).
- ``huggingface`` ``load_huggingface()``: a Hugging Face BERT/ELECTRA folder -> ``BERTModel``
                  (its switches in ``model.EncoderSwitches``) and its WordPiece vocabulary.
- ``hub``         downloads and the cache: registry with sha1s, mirrors, offline placement.
- ``sample``      the embedded offline sample: tiny checkpoint + template SNLI corpus.
- ``snli``        ``read_snli()``: SNLI's text files -> premises, hypotheses, labels.
- ``wordpiece``   ``WordPiece``: a Hugging Face checkpoint's tokenizer, its normalization included.
- ``kornli``      ``read_kornli()``: KorNLI's tab-separated files (Korean NLI) -> the same triple,
                  its pinned revision and file hashes.
- ``packing``     ``pack_pair()`` and the two truncation rules, ``truncation_stats()``.
- ``dataset``     ``SNLIBERTDataset`` (unpadded, cached), ``vocab_coverage()``.
- ``loader``      ``make_loader()``: dynamic padding, length buckets, rank split.
- ``classifier``  ``BERTClassifier``: encoder + pooler + a new 3-way layer.
- ``distributed`` ``DistInfo``: this process's device, rank and world, made once by the
                  job's owner (``session()``).
- ``train``       ``fine_tune()`` (the loop) and ``History``.
- ``checkpoint``  run folders (``checkpoint.pt``, ``run.json``, ``history.json``), safe loading,
                  resume and what it may change, the lock a training run holds on its folder;
                  ``atomic_write()``, the one way the package writes a file.
- ``inference``   ``evaluate()`` and ``predict()``.
- ``recipe``      the whole job in one call (command line, notebooks).
- ``profiles``    ``sample`` (offline CPU) vs ``full`` (reference run) settings.
- ``prose``       ``say()``: a paragraph that states computed figures, as a code cell's Markdown
                  output (read in Jupyter, Colab and on the site alike).
- ``jupyter_save`` a Jupyter pre-save hook: a tracked chapter ``.ipynb`` is saved without outputs.
- ``korean``      ``josa()``: the right Korean particle after a number or code name in messages.
- ``plots``       training curves, confusion matrix, probability bars (bilingual labels).
- ``cli``         ``python -m bertnli ...`` / the ``bertnli`` console script.
- ``launch``      ``python -m bertnli.launch``: torchrun that ends as its ranks end (their
                  message and exit code on Ctrl-C or SIGTERM, not torchrun's traceback).
- ``assignments`` ``classroom assignment``: exercise chapters -> an nbgrader course folder.
- ``licenses``    who made each file ``classroom mirror`` passes on, and its license text.
"""

from .classifier import BERTClassifier
from .dataset import SNLIBERTDataset, vocab_coverage
from .loader import make_loader
from .model import BERTConfig, BERTModel, count_parameters, devices
from .packing import pack_pair, tokenize, tokenize_text, truncate_longest_first, truncate_proportional, truncation_stats
from .plots import LivePlot, plot_confusion, plot_history, plot_probabilities
from .pretrained import KNOWN_CONFIGS, load_pretrained
from .profiles import get_profile
from .snli import LABELS, read_snli
from .checkpoint import RunFolder, atomic_write, model_from_checkpoint
from .distributed import DistInfo
from .inference import evaluate, predict
from .train import History, fine_tune
from .vocab import Vocab

__version__ = "0.1.0"
