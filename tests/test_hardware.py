"""Every CUDA branch of the package, run on a CPU-only machine made to look like a one-GPU one.

``FakeGPU`` replaces ``torch.cuda``'s functions the package calls; its ``set_device`` refuses
a device without an index exactly as PyTorch does (the bug that made ``--device cuda``
crash on the first real GPU). Tensors stay on the CPU: what is tested here is every
decision and every ``torch.cuda`` call, each through the function that owns it
(``bertnli.hardware``), and that no other module calls ``torch.cuda`` behind its back.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
from helpers.tiny_task import VOCAB, tiny_bert, tiny_data

from bertnli import (
    BERTClassifier,
    SNLIBERTDataset,
    cli,
    distributed,
    fine_tune,
    hardware,
    make_loader,
)
from bertnli.distributed import DistInfo
from bertnli.model.bert import BERTModel
from bertnli.run import checkpoint
from bertnli.run.inference import to_device
from bertnli.run.train import MEMORY_HINT

SRC = Path(__file__).resolve().parents[1] / "src" / "bertnli"
GiB = 2**30


class FakeGPU:
    """One CUDA device, ``cuda:0``, as far as ``torch.cuda`` tells; records every call."""

    def __init__(self, monkeypatch, *, count: int = 1, bf16: bool = True, name: str = "Fake H200"):
        self.calls: list[tuple] = []
        self.current = 0
        self.rng = [torch.tensor([7, 8, 9], dtype=torch.uint8)] * count
        fake = {
            "is_available": lambda: True,
            "device_count": lambda: count,
            "current_device": lambda: self.current,
            "set_device": self.set_device,
            "synchronize": lambda device=None: self.calls.append(
                ("synchronize", self.index(device))
            ),
            "get_device_name": lambda device=None: name,
            "is_bf16_supported": lambda *a, **k: bf16,
            "max_memory_allocated": lambda device=None: (
                self.calls.append(("max_memory", self.index(device))) or 3 * GiB
            ),
            "reset_peak_memory_stats": lambda device=None: self.calls.append(
                ("reset_peak", self.index(device))
            ),
            "get_rng_state_all": lambda: list(self.rng),
            "set_rng_state_all": lambda states: self.calls.append(
                ("set_rng", [s.tolist() for s in states])
            ),
        }
        for attr, function in fake.items():
            monkeypatch.setattr(torch.cuda, attr, function)

    @staticmethod
    def index(device) -> int:
        """torch._utils._get_device_index with optional=False: an index, or PyTorch's refusal."""
        if isinstance(device, int):
            return device
        device = torch.device(device)
        if device.type != "cuda" or device.index is None:
            raise ValueError(
                f"Expected a torch.device with a specified index or an integer, but got:{device}"
            )
        return device.index

    def set_device(self, device) -> None:
        self.current = self.index(device)
        self.calls.append(("set_device", self.current))


@pytest.fixture
def gpu(monkeypatch):
    return FakeGPU(monkeypatch)


# ----------------------------------------------------------------------------- device names


def test_the_fake_refuses_what_pytorch_refuses(gpu):
    """The fake is faithful: the old code's call, set_device(torch.device('cuda')), fails on it."""
    with pytest.raises(ValueError, match="specified index"):
        torch.cuda.set_device(torch.device("cuda"))


@pytest.mark.parametrize(
    "name, expected", [("cuda", "cuda:0"), ("cuda:0", "cuda:0"), (None, "cuda:0")]
)
def test_every_documented_device_form_becomes_an_indexed_gpu(gpu, name, expected):
    assert hardware.resolve_device(name) == torch.device(expected)
    assert DistInfo.local(name).device == torch.device(expected)
    hardware.use_device(hardware.resolve_device(name))
    assert gpu.calls[-1] == ("set_device", 0)


def test_bare_cuda_is_the_current_device(monkeypatch):
    gpu = FakeGPU(monkeypatch, count=2)
    gpu.current = 1
    assert hardware.resolve_device("cuda") == torch.device("cuda:1")
    with pytest.raises(ValueError, match="2 CUDA device"):
        hardware.resolve_device("cuda:2")


def test_use_device_accepts_a_bare_cuda_device(gpu):
    hardware.use_device(torch.device("cuda"))
    assert gpu.calls == [("set_device", 0)]


def test_fine_tune_on_cuda_gets_past_set_device(gpu):
    """The crash of issue 18: fine_tune(device='cuda') called set_device(cuda) and died.
    With an empty loader the run stops right after choosing its device, at the next check."""
    with pytest.raises(ValueError, match="yields no batch"):
        fine_tune(BERTClassifier(tiny_bert()), [], None, device="cuda")
    assert ("set_device", 0) in gpu.calls


def test_the_command_line_session_makes_an_indexed_device(gpu):
    with distributed.session("cuda") as info:
        assert info.device == torch.device("cuda:0") and info.describe() == "Fake H200"
    parser = cli.build_parser()
    assert parser.parse_args(["finetune", "--device", "cuda"]).device == "cuda"


def test_torchrun_joins_nccl_on_its_local_gpu(monkeypatch):
    gpu = FakeGPU(monkeypatch, count=2)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    joined = []
    monkeypatch.setattr(dist, "is_initialized", lambda: False)
    monkeypatch.setattr(dist, "init_process_group", lambda backend: joined.append(backend))
    monkeypatch.setattr(dist, "get_rank", lambda: 1)
    monkeypatch.setattr(dist, "get_world_size", lambda: 2)
    for name in ("cuda", None):
        info = distributed.start(name)
        assert info.device == torch.device("cuda:1") and info.backend == "nccl" and info.rank == 1
        assert gpu.calls[-1] == ("set_device", 1) and joined[-1] == "nccl"
        assert info.describe() == "2 x Fake H200"
        assert hardware.ddp_device_ids(info.device) == [1]


# ----------------------------------------------------------------------------- the loop's CUDA calls


def test_synchronize_and_memory_statistics_go_to_the_indexed_gpu(gpu):
    device = hardware.resolve_device("cuda")
    hardware.synchronize(device)
    hardware.reset_peak_memory(device)
    assert hardware.peak_memory_mib(device) == 3 * 1024
    assert gpu.calls == [("synchronize", 0), ("reset_peak", 0), ("max_memory", 0)]
    cpu = torch.device("cpu")
    hardware.synchronize(cpu)
    hardware.reset_peak_memory(cpu)
    assert hardware.peak_memory_mib(cpu) is None and len(gpu.calls) == 3  # nothing asked of CUDA


def test_ddp_device_ids(gpu):
    assert hardware.ddp_device_ids(torch.device("cuda")) == [0]
    assert hardware.ddp_device_ids(torch.device("cuda:0")) == [0]
    assert hardware.ddp_device_ids(torch.device("cpu")) is None


def test_batches_copy_asynchronously_only_to_a_gpu(gpu):
    assert hardware.transfers_async(torch.device("cuda:0")) and not hardware.transfers_async(
        torch.device("cpu")
    )
    batch = ((torch.zeros(2, 3, dtype=torch.long),) * 3, torch.zeros(2, dtype=torch.long))
    X, y = to_device(batch, torch.device("cpu"))
    assert all(x.device.type == "cpu" for x in X) and y.device.type == "cpu"


def test_checkpoints_keep_the_gpu_random_state(gpu):
    state = checkpoint.rng_state()
    assert [s.tolist() for s in state["cuda"]] == [[7, 8, 9]]
    checkpoint.set_rng_state(state)
    assert gpu.calls[-1] == ("set_rng", [[7, 8, 9]])


def test_out_of_memory_gets_the_hint(tmp_path):
    class OutOfMemory(BERTClassifier):
        def forward(self, *X):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    data = make_loader(
        SNLIBERTDataset(tiny_data(8), VOCAB, max_len=32, cache=False), 4, shuffle=False
    )
    with pytest.raises(RuntimeError, match="out of GPU memory") as err:
        fine_tune(OutOfMemory(tiny_bert()), data, None, epochs=1, device="cpu")
    assert MEMORY_HINT in str(err.value) and "20.00 GiB" in str(err.value)


# ----------------------------------------------------------------------------- precision


def classifier(width: int) -> BERTClassifier:
    return BERTClassifier(
        BERTModel(
            vocab_size=20,
            num_hiddens=width,
            ffn_num_hiddens=8,
            num_heads=2,
            num_blks=1,
            dropout=0.0,
            max_len=16,
        )
    )


def test_mixed_precision_follows_the_encoder_width(gpu):
    cuda = torch.device("cuda:0")
    small, base = hardware.encoder_width(classifier(256)), hardware.encoder_width(classifier(768))
    assert (small, base) == (256, 768)
    assert hardware.amp_dtype(cuda, None, small) is None  # bert.small: fp32 (no gain measured)
    assert hardware.amp_dtype(cuda, None, base) is torch.bfloat16  # bert.base: bf16
    assert hardware.amp_dtype(cuda, None, None) is None  # unknown width: the safe choice
    assert hardware.amp_dtype(cuda, True, small) is torch.bfloat16  # asked for: on
    assert hardware.amp_dtype(cuda, False, base) is None  # refused: off
    assert hardware.amp_dtype(torch.device("cpu"), None, base) is None
    assert hardware.amp_dtype(torch.device("cpu"), True, base) is torch.bfloat16


def test_fp16_where_bf16_is_missing_and_only_fp16_gets_a_scaler(monkeypatch):
    FakeGPU(monkeypatch, bf16=False)
    cuda = torch.device("cuda:0")
    assert hardware.amp_dtype(cuda, None, 768) is torch.float16
    assert hardware.grad_scaler(cuda, torch.float16).is_enabled()
    assert not hardware.grad_scaler(cuda, torch.bfloat16).is_enabled()
    assert not hardware.grad_scaler(cuda, None).is_enabled()
    assert not hardware.grad_scaler(torch.device("cpu"), torch.float16).is_enabled()
    assert "gradient scaler" in hardware.precision_note(cuda, torch.float16)


def test_the_width_is_found_through_wrappers():
    model = classifier(768)

    class Wrapper(
        torch.nn.Module
    ):  # what DistributedDataParallel (module) and torch.compile (_orig_mod) do
        def __init__(self, inner, attr):
            super().__init__()
            setattr(self, attr, inner)

    assert hardware.encoder_width(Wrapper(model, "module")) == 768
    assert hardware.encoder_width(Wrapper(Wrapper(model, "module"), "_orig_mod")) == 768
    assert hardware.encoder_width(model.encoder) is None


def test_fast_kernels_allow_tf32_and_leave_out_cudnn_attention_then_restore(gpu):
    before = torch.get_float32_matmul_precision()
    assert before == "highest"
    with hardware.fast_kernels(torch.device("cuda:0"), None):
        assert torch.get_float32_matmul_precision() == "high"
        assert not torch.backends.cuda.cudnn_sdp_enabled()
        assert (
            torch.backends.cuda.flash_sdp_enabled()
            and torch.backends.cuda.mem_efficient_sdp_enabled()
        )
    assert (
        torch.get_float32_matmul_precision() == before and torch.backends.cuda.cudnn_sdp_enabled()
    )
    with hardware.fast_kernels(
        torch.device("cuda:0"), torch.bfloat16
    ):  # bf16: fp32 matmuls untouched
        assert (
            torch.get_float32_matmul_precision() == before
            and not torch.backends.cuda.cudnn_sdp_enabled()
        )
    with hardware.fast_kernels(torch.device("cpu"), None):  # the CPU: nothing changes
        assert (
            torch.get_float32_matmul_precision() == before
            and torch.backends.cuda.cudnn_sdp_enabled()
        )


def test_the_run_says_how_it_computes(gpu):
    assert hardware.precision_note(torch.device("cuda:0"), None) == "fp32 with TF32 matrix products"
    assert (
        hardware.precision_note(torch.device("cuda:0"), torch.bfloat16) == "mixed precision (bf16)"
    )
    assert hardware.precision_note(torch.device("cpu"), None) == "fp32"


def test_the_cpu_run_prints_its_precision_line(capsys):
    data = make_loader(
        SNLIBERTDataset(tiny_data(8), VOCAB, max_len=32, cache=False), 4, shuffle=False
    )
    fine_tune(BERTClassifier(tiny_bert()), data, None, epochs=1, device="cpu")
    assert capsys.readouterr().out.splitlines()[0].startswith("training on CPU (")


# ----------------------------------------------------------------------------- bounded shapes


def test_gpu_batches_are_padded_to_a_multiple_of_8_and_cpu_batches_exactly(gpu):
    dataset = SNLIBERTDataset(tiny_data(64), VOCAB, max_len=30, cache=False)
    on_gpu = make_loader(
        dataset, 8, shuffle=True, dist=DistInfo(torch.device("cuda:0")), pin_memory=False
    )
    on_cpu = make_loader(dataset, 8, shuffle=True, dist=DistInfo(torch.device("cpu")))
    widths = set()
    for (tokens, segments, valid_lens), _ in on_gpu:
        width = tokens.shape[1]
        widths.add(width)
        assert (
            width == min(-(-int(valid_lens.max()) // 8) * 8, 30) and segments.shape == tokens.shape
        )
        assert (tokens[:, int(valid_lens.max()) :] == VOCAB["<pad>"]).all()
    assert widths <= {8, 16, 24, 30}
    for (tokens, _, valid_lens), _ in on_cpu:
        assert tokens.shape[1] == int(valid_lens.max())
    assert make_loader(dataset, 8, shuffle=False, dist=DistInfo(torch.device("cuda:0"))).pin_memory
    assert not on_cpu.pin_memory


def test_padding_to_a_multiple_leaves_the_model_output_unchanged():
    dataset = SNLIBERTDataset(tiny_data(16), VOCAB, max_len=64, cache=False)
    model = BERTClassifier(tiny_bert()).eval()
    idx = np.arange(16)
    X, _ = dataset.batch(idx)
    X8, _ = dataset.batch(idx, 8)
    assert X8[0].shape[1] % 8 == 0 and X8[0].shape[1] > X[0].shape[1] - 1
    with torch.no_grad():
        torch.testing.assert_close(model(*X), model(*X8), rtol=1e-5, atol=1e-5)


def test_a_bad_pad_multiple_is_refused():
    dataset = SNLIBERTDataset(tiny_data(8), VOCAB, max_len=32, cache=False)
    with pytest.raises(ValueError, match="pad_multiple"):
        make_loader(dataset, 4, shuffle=False, pad_multiple=0)


# ----------------------------------------------------------------------------- one owner


def _cuda_uses(path: Path) -> list[str]:
    """``torch.cuda`` attribute uses and ``... == "cuda"`` comparisons in one source file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and ast.unparse(node).startswith("torch.cuda"):
            found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
        if isinstance(node, ast.Compare) and any(
            isinstance(c, ast.Constant) and c.value == "cuda" for c in node.comparators
        ):
            found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_only_hardware_calls_torch_cuda():
    """A new CUDA branch goes into ``hardware``, where the fake GPU above tests it."""
    uses = [u for p in sorted(SRC.rglob("*.py")) if p.name != "hardware.py" for u in _cuda_uses(p)]
    assert uses == []
    assert _cuda_uses(SRC / "hardware.py")  # the scan does find them where they are
