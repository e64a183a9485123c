"""bertnli: fine-tune a pretrained BERT for natural language inference on SNLI.

Module map, bottom layer first; a module imports only from its own layer or the ones above
it in this list (tests/test_layout.py checks that, that no import cycle exists, and that
this map names exactly the package's files).

Ground floor (files, devices, downloads):

- ``files``       ``atomic_write()``, the one way the package writes a file; finding the one
                  file that plays a role in a user's folder or zip (refusing two).
- ``hardware``    every CUDA-specific call and choice: indexed devices, mixed precision by
                  model width, TF32, attention kernels, padding to a multiple of 8.
- ``distributed`` ``DistInfo``: this process's device, rank and world, made once by the
                  job's owner (``session()``).
- ``messages``    the command line's own words in English and Korean (``BERTNLI_LANG``, locale).
- ``_jupyter``    progress bars that suit a terminal or a notebook.
- ``hub``         downloads and the cache: registry with sha1s (KorNLI: git blob ids at a pinned
                  revision), mirrors, offline placement; Hugging Face model folders (pinned
                  revision, sha256 recorded on first download).
- ``sample``      the embedded offline samples: tiny checkpoints + template SNLI and KorNLI corpora.

``model/`` (the encoder and what fills it):

- ``model.bert``        ``BERTModel``, ``BERTConfig`` with its ``EncoderSwitches``
                        (d2l-compatible state dict, SDPA attention), ``devices()``.
- ``model.classifier``  ``BERTClassifier``: encoder + pooler + a new 3-way layer.
- ``model.pretrained``  ``load_pretrained()``: a registry name, folder or zip -> (model, tokenizer).
- ``model.huggingface`` ``load_huggingface()``: a Hugging Face BERT/ELECTRA folder ->
                        ``BERTModel`` and its WordPiece vocabulary.
- ``model.vocab``       ``Vocab``: tokens <-> ids, d2l's ``vocab.json`` format.
- ``model.wordpiece``   ``WordPiece``: a Hugging Face checkpoint's tokenizer, normalization included.
- ``model.tokenizer``   ``Tokenizer``: the interface every tokenizer offers (ids, special ids).

``data/`` (from corpus files to batches):

- ``data.snli``     ``read_snli()``: SNLI's text files -> premises, hypotheses, labels.
- ``data.kornli``   ``read_kornli()``: KorNLI's tab-separated files -> the same triple,
                    its pinned revision and file hashes.
- ``data.corpora``  the corpus table: ``read_pairs()`` / ``corpus_of()`` for a ``--data`` name,
                    folder or zip (SNLI, KorNLI; one new file + one line adds a corpus).
- ``data.packing``  ``pack_pair()``, the two truncation rules, ``truncation_stats()``.
- ``data.dataset``  ``SNLIBERTDataset`` (unpadded, cached), ``vocab_coverage()``.
- ``data.loader``   ``make_loader()``: dynamic padding, length buckets, rank split.

``run/`` (one fine-tuning run):

- ``run.rules``      each rule a run's settings follow, once, its message naming the option.
- ``run.profiles``   ``sample`` / ``laptop`` / ``full`` settings, ``BERTNLI_*`` variables.
- ``run.korean_profiles`` ``korean_profile()``: chapter 6's Korean model, KorNLI and sizes per profile.
- ``run.spec``       ``RunSpec``: one run, built from profile < variables < arguments and checked
                     once; ``Optimization`` (the optimizer and its learning rate).
- ``run.costs``      time and memory estimates from the settings.
- ``run.history``    ``History``: one record per finished epoch, saved as ``history.json``.
- ``run.checkpoint`` run folders (``checkpoint.pt``, ``run.json``, ``history.json``), safe
                     loading, resume and what it may change, the run folder's lock.
- ``run.inference``  ``evaluate()`` and ``predict()``.
- ``run.train``      ``fine_tune()``: the training loop.
- ``run.recipe``     the whole job in one call (command line, notebooks).

``book/`` (what the chapters show and hand out):

- ``book.fonts``        a Hangul font for matplotlib.
- ``book.plots``        training curves, confusion matrix, probability bars (bilingual labels).
- ``book.widgets``      the chapters' interactive widgets.
- ``book.attention``    ``pair_attention()``: one pair's attention weights, heatmaps, explorer.
- ``book.korean``       ``josa()``: the right Korean particle after a number or code name.
- ``book.prose``        ``say()``: a paragraph stating computed figures, as a code cell's
                        Markdown output (Jupyter, Colab and the site alike).
- ``book.exercises``    the exercise chapters' helpers.
- ``book.jupyter_save`` a Jupyter pre-save hook: a tracked chapter ``.ipynb`` saved without outputs.
- ``book.classroom``    ``classroom student-copy`` / ``mirror``: a course's files.
- ``book.assignments``  ``classroom assignment``: exercise chapters -> an nbgrader course folder.
- ``book.licenses``     who made each file ``classroom mirror`` passes on, and its license text.
- ``book.korean_nli``   chapter 6: vocabulary coverage of a text, hypothesis-only pairs, subsets
                        sized to a time limit, the check of its exercise.

Top (commands):

- ``cli``         ``python -m bertnli ...`` / the ``bertnli`` console script.
- ``_cli_hub``    the command line's ``download`` and ``cache`` commands.
- ``launch``      ``python -m bertnli.launch``: torchrun that ends as its ranks end.
- ``__main__``    ``python -m bertnli``.
"""

from bertnli.book.plots import LivePlot, plot_confusion, plot_history, plot_probabilities
from bertnli.data.dataset import SNLIBERTDataset, vocab_coverage
from bertnli.data.loader import make_loader
from bertnli.data.packing import (
    pack_pair,
    tokenize,
    tokenize_text,
    truncate_longest_first,
    truncate_proportional,
    truncation_stats,
)
from bertnli.data.snli import LABELS, read_snli
from bertnli.distributed import DistInfo
from bertnli.files import atomic_write
from bertnli.model.bert import BERTConfig, BERTModel, count_parameters, devices
from bertnli.model.classifier import BERTClassifier
from bertnli.model.pretrained import KNOWN_CONFIGS, load_pretrained
from bertnli.model.vocab import Vocab
from bertnli.run.checkpoint import RunFolder, model_from_checkpoint
from bertnli.run.inference import evaluate, predict
from bertnli.run.profiles import get_profile
from bertnli.run.spec import RunSpec
from bertnli.run.train import History, fine_tune

__all__ = [
    "KNOWN_CONFIGS",
    "LABELS",
    "BERTClassifier",
    "BERTConfig",
    "BERTModel",
    "DistInfo",
    "History",
    "LivePlot",
    "RunFolder",
    "RunSpec",
    "SNLIBERTDataset",
    "Vocab",
    "atomic_write",
    "count_parameters",
    "devices",
    "evaluate",
    "fine_tune",
    "get_profile",
    "load_pretrained",
    "make_loader",
    "model_from_checkpoint",
    "pack_pair",
    "plot_confusion",
    "plot_history",
    "plot_probabilities",
    "predict",
    "read_snli",
    "tokenize",
    "tokenize_text",
    "truncate_longest_first",
    "truncate_proportional",
    "truncation_stats",
    "vocab_coverage",
]

__version__ = "0.1.0"
