"""Helpers the test modules share (never fixtures: those live in ``tests/conftest.py``).

Imported as ``from helpers.<module> import ...``: pytest puts ``tests/`` on ``sys.path``
(rootdir conftest, ``prepend`` import mode), and ``helpers/dist_worker.py`` does the same when
torchrun runs it as a script.
"""
