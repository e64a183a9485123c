"""load_pretrained: d2l's checkpoint format from a folder, a zip or a registry name."""

import json
import re
import warnings
import zipfile

import pytest
import torch
from helpers.d2l_compat import d2l_torch

from bertnli import BERTModel, Vocab, load_pretrained
from bertnli.model import pretrained as pretrained_mod

TOKENS = ["<unk>", "<pad>", "<mask>", "<cls>", "<sep>", "a", "man", "plays", "guitar", "."]
CFG = dict(
    vocab_size=len(TOKENS),
    num_hiddens=24,
    ffn_num_hiddens=40,
    num_heads=3,
    num_blks=2,
    dropout=0.1,
    max_len=32,
)


def write_d2l_checkpoint(folder, state, tokens=TOKENS):
    """What d2l's hub delivers: a folder with vocab.json and pretrained.params."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(tokens))
    torch.save(state, folder / "pretrained.params")
    return folder


@pytest.fixture
def d2l_written(tmp_path):
    """A checkpoint whose weights were produced by d2l's own BERTModel."""
    d2l = d2l_torch()
    torch.manual_seed(0)
    ref = d2l.BERTModel(**CFG)
    t = torch.zeros(1, 3, dtype=torch.long)
    ref(t, t, torch.tensor([3]), torch.zeros(1, 1, dtype=torch.long))
    return ref, write_d2l_checkpoint(tmp_path / "ckpt", ref.state_dict())


def test_loads_d2l_folder_with_heads_given(d2l_written):
    ref, folder = d2l_written
    model, vocab = load_pretrained(folder, num_heads=3)
    assert isinstance(vocab, Vocab) and len(vocab) == len(TOKENS)
    assert model.config.num_hiddens == 24 and model.config.ffn_num_hiddens == 40
    assert model.config.num_blks == 2 and model.config.max_len == 32
    for k, v in ref.state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k


def test_loads_from_zip(d2l_written, tmp_path):
    _, folder = d2l_written
    zpath = tmp_path / "ckpt.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for name in ("vocab.json", "pretrained.params"):
            zf.write(folder / name, f"bert.tiny.torch/{name}")
    model, vocab = load_pretrained(zpath, num_heads=3, dropout=0.0)
    assert vocab["guitar"] == 8 and vocab["zebra"] == vocab["<unk>"]
    assert model.encoder.blks[0].attention.dropout == 0.0


def test_heads_unknown_for_unnamed_checkpoint(d2l_written):
    _, folder = d2l_written
    with pytest.raises(ValueError, match="num_heads"):
        load_pretrained(folder)


@pytest.mark.parametrize(
    "arg, value", [("num_hiddens", 32), ("ffn_num_hiddens", 64), ("num_blks", 12), ("max_len", 512)]
)
def test_disagreeing_size_names_argument_and_both_values(d2l_written, arg, value):
    _, folder = d2l_written
    file_value = {"num_hiddens": 24, "ffn_num_hiddens": 40, "num_blks": 2, "max_len": 32}[arg]
    with pytest.raises(ValueError) as info:
        load_pretrained(folder, num_heads=3, **{arg: value})
    msg = str(info.value)
    assert f"{arg}={value}" in msg and f"{arg}={file_value}" in msg


def test_registry_names_take_heads_from_known_config(tmp_path, monkeypatch):
    """bert.base (12 heads) loads through the registry: sizes come from the tensors, not bert.small's."""
    model = BERTModel(**dict(CFG, num_hiddens=48, num_heads=12, num_blks=3))
    folder = write_d2l_checkpoint(tmp_path / "bert.base.torch", model.state_dict())
    import bertnli.hub

    monkeypatch.setattr(bertnli.hub, "fetch", lambda name, **kw: folder)
    loaded, _ = load_pretrained("bert.base")
    assert loaded.config.num_heads == 12 and loaded.config.num_blks == 3
    with pytest.raises(ValueError, match="num_heads=4 disagrees"):
        load_pretrained("bert.base", num_heads=4)


def test_published_shapes_are_recognised():
    sizes = dict(vocab_size=10, num_hiddens=768, ffn_num_hiddens=3072, num_blks=12, max_len=512)
    assert pretrained_mod._known_heads(None, sizes) == 12
    assert (
        pretrained_mod._known_heads(
            None, dict(sizes, num_hiddens=256, ffn_num_hiddens=512, num_blks=2)
        )
        == 4
    )


def test_vocab_and_tensors_must_agree(tmp_path):
    state = BERTModel(**CFG).state_dict()
    folder = write_d2l_checkpoint(tmp_path / "c", state, tokens=TOKENS[:-1])
    with pytest.raises(ValueError, match="9 tokens but the token embedding has 10 rows"):
        load_pretrained(folder, num_heads=3)


def test_missing_file_and_bad_files_are_named(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    with pytest.raises(FileNotFoundError, match="vocab.json"):
        load_pretrained(folder, num_heads=3)
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        load_pretrained(tmp_path / "nope", num_heads=3)
    bad = write_d2l_checkpoint(tmp_path / "bad", {})
    (bad / "pretrained.params").write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="pretrained.params"):
        load_pretrained(bad, num_heads=3)
    (bad / "vocab.json").write_text("{oops")
    with pytest.raises(ValueError, match="vocab.json"):
        load_pretrained(bad, num_heads=3)


def test_state_dict_with_foreign_layout_is_refused(tmp_path):
    state = BERTModel(**CFG).state_dict()
    state["encoder.extra"] = torch.zeros(1)
    folder = write_d2l_checkpoint(tmp_path / "x", state)
    with pytest.raises(ValueError, match="layout"):
        load_pretrained(folder, num_heads=3)


def test_weights_only_loading_refuses_pickled_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    folder = write_d2l_checkpoint(tmp_path / "evil", {"x": Evil()})
    with pytest.raises(ValueError, match="cannot be read"):
        load_pretrained(folder, num_heads=3)


def test_vocab_semantics_match_d2l():
    d2l = d2l_torch()
    ref = d2l.Vocab()
    ref.idx_to_token = TOKENS
    ref.token_to_idx = {t: i for i, t in enumerate(TOKENS)}
    ours = Vocab(TOKENS)
    for query in ["man", "zebra", ["a", "man", "zebra"], ("plays", ".")]:
        assert ours[query] == ref[query]
    assert ours.to_tokens([5, 6]) == ref.to_tokens([5, 6]) and ours.to_tokens(7) == ref.to_tokens(7)
    assert len(ours) == len(ref)
    with pytest.raises(ValueError, match="twice"):
        Vocab(["<unk>", "a", "a"])
    with pytest.raises(ValueError, match="<unk>"):
        Vocab(["a"])


# --------------------------------------------------------------------------- one file per role (issue 21, item 2)


def test_a_nested_older_copy_of_a_checkpoint_file_is_refused_naming_both(d2l_written):
    ref, folder = d2l_written
    older = write_d2l_checkpoint(folder / "old", BERTModel(**CFG).state_dict())
    with pytest.raises(ValueError) as err:
        load_pretrained(folder, num_heads=3)
    message = str(err.value)
    assert "2 files called" in message and "will not guess" in message
    assert str(folder / "vocab.json") in message and str(older / "vocab.json") in message


def test_checkpoint_files_in_two_different_folders_are_refused(d2l_written, tmp_path):
    _, folder = d2l_written
    mixed = tmp_path / "mixed"
    (mixed / "a").mkdir(parents=True)
    (mixed / "b").mkdir()
    (mixed / "a" / "vocab.json").write_bytes((folder / "vocab.json").read_bytes())
    (mixed / "b" / "pretrained.params").write_bytes((folder / "pretrained.params").read_bytes())
    with pytest.raises(ValueError, match="different folders"):
        load_pretrained(mixed, num_heads=3)


def test_a_checkpoint_one_folder_down_still_loads(d2l_written, tmp_path):
    """An unpacked zip's top folder (``downloads/bert.tiny.torch/...``) is found, as before."""
    ref, folder = d2l_written
    parent = tmp_path / "downloads"
    parent.mkdir()
    folder.rename(parent / "bert.tiny.torch")
    model, _ = load_pretrained(parent, num_heads=3)
    assert torch.equal(
        model.state_dict()["encoder.pos_embedding"], ref.state_dict()["encoder.pos_embedding"]
    )


def _zip(path, members):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns "Duplicate name": that is the point
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in members:
                zf.writestr(name, data)
    return path


def test_a_zip_holding_a_member_twice_is_refused(d2l_written, tmp_path):
    _, folder = d2l_written
    vocab, params = (
        (folder / "vocab.json").read_bytes(),
        (folder / "pretrained.params").read_bytes(),
    )
    other = json.dumps(TOKENS[::-1]).encode()
    twice = _zip(
        tmp_path / "twice.zip",
        [("c/vocab.json", vocab), ("c/pretrained.params", params), ("c/vocab.json", other)],
    )
    with pytest.raises(ValueError, match=r"stores c/vocab.json 2 times"):
        load_pretrained(twice, num_heads=3)
    two_places = _zip(
        tmp_path / "two.zip",
        [
            ("new/vocab.json", vocab),
            ("new/pretrained.params", params),
            ("old/pretrained.params", params),
        ],
    )
    with pytest.raises(ValueError) as err:
        load_pretrained(two_places, num_heads=3)
    assert "new/pretrained.params" in str(err.value) and "old/pretrained.params" in str(err.value)


def test_a_path_that_is_no_checkpoint_is_refused_without_walking_it(tmp_path, monkeypatch):
    """``info --model /`` or ``--model ~``: a big tree is refused after a bounded look, never walked."""
    import os
    import pathlib
    import time

    big = tmp_path / "home"
    for i in range(60):  # 60 folders of 60 files: more than any checkpoint folder
        sub = big / f"d{i:02d}" / "deeper"
        sub.mkdir(parents=True)
        for j in range(60):
            (sub.parent / f"f{j}.txt").write_bytes(b"")
    (big / "d00" / "deeper" / "deepest").mkdir()
    (big / "d00" / "deeper" / "deepest" / "vocab.json").write_text(
        "[]"
    )  # three levels down: not looked at

    def walking(*args, **kwargs):
        raise AssertionError("the whole tree was walked")

    calls = []
    real_scandir = os.scandir
    monkeypatch.setattr(pathlib.Path, "rglob", walking)
    monkeypatch.setattr(os, "walk", walking)
    monkeypatch.setattr(os, "scandir", lambda p: calls.append(p) or real_scandir(p))
    start = time.perf_counter()
    with pytest.raises(ValueError, match="is not a checkpoint folder"):
        load_pretrained(big, num_heads=3)
    assert time.perf_counter() - start < 2.0
    from bertnli import files as _findfiles

    assert len(calls) <= _findfiles.MAX_ENTRIES
    assert len(calls) < 70  # it stopped at the bound, not after every folder


@pytest.mark.parametrize(
    "kind", ["text file", "zip in name only", "device", "folder of other things", "vocab is a dict"]
)
def test_paths_that_are_not_checkpoints_say_what_they_are(kind, d2l_written, tmp_path):
    """Probe: paths that are not what they claim, each refused with what it is and what to give."""
    if kind == "text file":
        path, err, words = tmp_path / "notes.txt", ValueError, "neither a folder nor a zip"
        path.write_text("hello")
    elif kind == "zip in name only":
        path, err, words = (
            tmp_path / "bert.small.torch.zip",
            ValueError,
            "neither a folder nor a zip",
        )
        path.write_text("<html>404</html>")  # a failed download saved under the zip's name
    elif kind == "device":
        path, err, words = "/dev/null", ValueError, "neither a folder nor a zip"
    elif kind == "folder of other things":
        path, err, words = (
            tmp_path / "home",
            FileNotFoundError,
            "no vocab.json found within 2 folder levels",
        )
        (path / "Documents").mkdir(parents=True)
        (path / "Documents" / "thesis.tex").write_text("...")
    else:
        _, path = d2l_written
        (path / "vocab.json").write_text('{"<unk>": 0}')
        err, words = ValueError, "vocab.json): expected a JSON list of strings"
    with pytest.raises(err, match=re.escape(words)):
        load_pretrained(path, num_heads=3)
