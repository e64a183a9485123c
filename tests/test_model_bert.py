"""BERTModel: d2l-compatible state dict, parity with d2l's forward pass, explicit sizes."""

import pytest
import torch
from helpers.d2l_compat import d2l_torch

from bertnli import BERTModel, devices

SMALL = dict(
    vocab_size=50,
    num_hiddens=32,
    ffn_num_hiddens=48,
    num_heads=4,
    num_blks=2,
    dropout=0.1,
    max_len=40,
)


def _d2l_bert(d2l, cfg):
    ref = d2l.BERTModel(**cfg)
    # d2l uses lazy layers: one forward pass materialises their shapes.
    tokens = torch.zeros(1, 4, dtype=torch.long)
    ref(tokens, tokens, torch.tensor([4]), torch.zeros(1, 1, dtype=torch.long))
    return ref


def test_state_dict_keys_and_shapes_match_d2l():
    d2l = d2l_torch()
    ours = BERTModel(**SMALL).state_dict()
    theirs = _d2l_bert(d2l, SMALL).state_dict()
    assert len(ours) == 45
    assert list(ours) == list(theirs)
    for key in ours:
        assert ours[key].shape == theirs[key].shape, key


def test_d2l_weights_load_strictly_both_ways():
    d2l = d2l_torch()
    ref = _d2l_bert(d2l, SMALL)
    ours = BERTModel(**SMALL)
    ours.load_state_dict(ref.state_dict(), strict=True)
    ref2 = _d2l_bert(d2l, SMALL)
    ref2.load_state_dict(ours.state_dict(), strict=True)
    for k, v in ref2.state_dict().items():
        assert torch.equal(v, ref.state_dict()[k])


@pytest.mark.parametrize("cfg", [SMALL, dict(SMALL, num_hiddens=48, num_heads=6, num_blks=3)])
def test_encoder_and_heads_match_d2l_at_valid_positions(cfg):
    d2l = d2l_torch()
    torch.manual_seed(0)
    ref = _d2l_bert(d2l, cfg).eval()
    ours = BERTModel(**cfg).eval()
    ours.load_state_dict(ref.state_dict())
    batch, seq = 5, 17
    tokens = torch.randint(0, cfg["vocab_size"], (batch, seq))
    segments = torch.randint(0, 2, (batch, seq))
    valid_lens = torch.tensor([17, 3, 9, 1, 12])
    pred_positions = torch.randint(0, 3, (batch, 2))
    with torch.no_grad():
        ref_enc, ref_mlm, ref_nsp = ref(tokens, segments, valid_lens, pred_positions)
        enc, mlm, nsp = ours(tokens, segments, valid_lens, pred_positions)
    assert enc.shape == (batch, seq, cfg["num_hiddens"])
    for row, n in enumerate(valid_lens.tolist()):
        torch.testing.assert_close(enc[row, :n], ref_enc[row, :n], atol=1e-5, rtol=0)
    torch.testing.assert_close(mlm, ref_mlm, atol=1e-5, rtol=0)
    torch.testing.assert_close(nsp, ref_nsp, atol=1e-5, rtol=0)


def test_padding_does_not_change_valid_positions():
    torch.manual_seed(1)
    model = BERTModel(**SMALL).eval()
    tokens = torch.randint(0, 50, (1, 6))
    segments = torch.zeros(1, 6, dtype=torch.long)
    with torch.no_grad():
        short = model.encoder(tokens, segments, torch.tensor([6]))
        padded = model.encoder(
            torch.cat([tokens, torch.ones(1, 10, dtype=torch.long)], 1),
            torch.zeros(1, 16, dtype=torch.long),
            torch.tensor([6]),
        )
    torch.testing.assert_close(padded[:, :6], short, atol=1e-5, rtol=0)


def test_no_lazy_parameters_and_pooler_shape():
    model = BERTModel(**SMALL)
    assert not any(
        isinstance(p, torch.nn.parameter.UninitializedParameter) for p in model.parameters()
    )
    assert isinstance(model.hidden[0], torch.nn.Linear) and isinstance(
        model.hidden[1], torch.nn.Tanh
    )
    assert model.hidden[0].weight.shape == (32, 32)


def test_too_long_sequence_is_a_clear_error():
    model = BERTModel(**SMALL)
    tokens = torch.zeros(1, 41, dtype=torch.long)
    with pytest.raises(ValueError, match="max_len 40"):
        model.encoder(tokens, tokens, torch.tensor([41]))


def test_heads_must_divide_hidden():
    with pytest.raises(ValueError, match="num_heads=5"):
        BERTModel(**dict(SMALL, num_heads=5))


def test_devices_is_never_empty():
    found = devices()
    assert found and all(isinstance(d, torch.device) for d in found)
    if not torch.cuda.is_available():
        assert found[0].type in ("cpu", "mps")
