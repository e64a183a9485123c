"""Every CUDA-specific decision and call of the package, in one place.

The loop, evaluation, the loaders and the process group never call ``torch.cuda`` or test
``device.type == "cuda"`` themselves: they ask the functions here. Each function has a
branch for CUDA and one for everything else, and ``tests/test_hardware.py`` runs every
CUDA branch on a CPU-only machine made to look like a one-GPU one (``torch.cuda``'s
functions replaced, ``set_device`` refusing a device without an index as PyTorch does),
so a CUDA path is never first run on a real GPU. A test also checks that no other module
of the package calls ``torch.cuda``.

The choices, and the measurements behind them (one H200, PyTorch 2.11; issue 18):

- ``cuda`` always becomes an indexed device (``cuda:0``): ``torch.cuda.set_device`` refuses
  ``cuda`` without an index, which is what made ``--device cuda`` crash.
- Mixed precision is on by default only for encoders at least ``AMP_MIN_HIDDEN`` wide
  (bert.base: 768). For bert.small (256) bf16 measured no faster than fp32; for bert.base
  the matrix products are large enough for bf16's tensor cores to pay.
- fp32 matrix products may use TF32 on CUDA (``fp32_matmul_precision("high")``), the same
  choice most training code makes; the run's first line says so.
- Attention runs on the flash / memory-efficient / math kernels, never cuDNN's: cuDNN's
  builds a new plan for every new sequence length, and length-bucketed batches bring a
  new length at almost every step (the AMP epoch ran 4.6x faster without it).
- On CUDA a batch is padded to a multiple of ``PAD_MULTIPLE`` tokens: at most
  ``max_len / 8`` shapes, which tensor cores prefer and ``torch.compile`` can bound.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import torch

AMP_MIN_HIDDEN = (
    512  # mixed precision by default from this encoder width up (bert.base 768; bert.small 256)
)
PAD_MULTIPLE = 8  # on CUDA, batches are padded to a multiple of this many tokens


def is_cuda(device: torch.device) -> bool:
    return torch.device(device).type == "cuda"


def available() -> list[torch.device]:
    """Usable accelerators: every CUDA device, else Apple's MPS, else ``[cpu]`` (never empty)."""
    if torch.cuda.is_available() and torch.cuda.device_count() > 0:
        return [torch.device("cuda", i) for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return [torch.device("mps")]
    return [torch.device("cpu")]


def resolve_device(
    device: str | torch.device | None = None, local_rank: int | None = None
) -> torch.device:
    """``device`` as a usable ``torch.device``, CUDA always with its index.

    ``None`` is the first usable accelerator. ``cuda`` is the current CUDA device
    (``cuda:0`` unless the program chose another); under torchrun (``local_rank`` given)
    a bare ``cuda`` or ``None`` on a CUDA machine is this rank's own GPU,
    ``cuda:LOCAL_RANK``. A name this machine cannot run is refused with the fix.
    """
    if device is None:
        if local_rank is not None:
            return (
                torch.device("cuda", local_rank)
                if torch.cuda.is_available()
                else torch.device("cpu")
            )
        return available()[0]
    try:
        chosen = torch.device(device)
    except RuntimeError as err:
        raise ValueError(
            f"--device {device!r} is not a device name; use cpu, cuda, cuda:1 or mps"
        ) from err
    if chosen.type not in ("cpu", "cuda", "mps"):
        raise ValueError(
            f"--device {device}: bertnli trains on cpu, cuda (cuda:N) or mps, not {chosen.type}"
        )
    if chosen.type == "mps" and not (
        hasattr(torch.backends, "mps") and torch.backends.mps.is_available()
    ):
        raise ValueError(
            f"--device {device}: Apple's MPS is not available on this machine; use --device cpu"
        )
    if chosen.type != "cuda":
        return chosen
    if not torch.cuda.is_available():
        raise ValueError(
            f"--device {device}: CUDA is not available on this machine; use --device cpu"
        )
    if local_rank is not None:
        if chosen.index is not None and chosen.index != local_rank:
            raise ValueError(
                f"--device {device}: under torchrun each process uses its own local GPU; "
                "pass --device cuda (process LOCAL_RANK uses cuda:LOCAL_RANK)"
            )
        return torch.device("cuda", local_rank)
    count = torch.cuda.device_count()
    if chosen.index is not None and chosen.index >= count:
        raise ValueError(
            f"--device {device}: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}"
        )
    return chosen if chosen.index is not None else torch.device("cuda", torch.cuda.current_device())


def use_device(device: torch.device) -> None:
    """Make ``device`` this process's current CUDA device (kernels and NCCL go there); a no-op elsewhere."""
    if is_cuda(device):
        torch.cuda.set_device(resolve_device(device))


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA runs asynchronously); a no-op on the CPU."""
    if is_cuda(device):
        torch.cuda.synchronize(device)


def reset_peak_memory(device: torch.device) -> None:
    if is_cuda(device):
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_mib(device: torch.device) -> float | None:
    """The most device memory tensors held since the last reset, in MiB (None off CUDA)."""
    if is_cuda(device):
        return torch.cuda.max_memory_allocated(device) / 2**20
    return None


def device_name(device: torch.device) -> str:
    """The hardware in words: the GPU's name on CUDA, else the device's name."""
    if is_cuda(device):
        return torch.cuda.get_device_name(device)
    return str(torch.device(device))


def ddp_device_ids(device: torch.device) -> list[int] | None:
    """DistributedDataParallel's ``device_ids``: this rank's one GPU, or None on the CPU (gloo)."""
    return [resolve_device(device).index] if is_cuda(device) else None


def transfers_async(device: torch.device) -> bool:
    """Copy batches with ``non_blocking`` (and pin them in the loader): pays on CUDA only."""
    return is_cuda(device)


def pad_multiple(device: torch.device) -> int:
    """Round each batch's padded length up to a multiple of this (1: exact lengths)."""
    return PAD_MULTIPLE if is_cuda(device) else 1


def encoder_width(model: torch.nn.Module) -> int | None:
    """The hidden size of the BERT inside ``model`` (a classifier, a BERTModel, or wrapped)."""
    while isinstance(getattr(model, "_orig_mod", getattr(model, "module", None)), torch.nn.Module):
        model = (
            getattr(model, "_orig_mod", None) or model.module
        )  # torch.compile, DistributedDataParallel
    config = getattr(model, "bert_config", None) or getattr(model, "config", None)
    return getattr(config, "num_hiddens", None)


def amp_dtype(
    device: torch.device, amp: bool | None, width: int | None = None
) -> torch.dtype | None:
    """The autocast dtype, or None for plain fp32.

    ``amp=None`` (the default) turns mixed precision on for CUDA when the encoder is at
    least ``AMP_MIN_HIDDEN`` wide (``width``; unknown counts as narrow), off elsewhere.
    On CUDA it is bf16 where the GPU supports it, else fp16 (with a gradient scaler);
    asked for explicitly on CPU or MPS it is bf16.
    """
    if amp is None:
        amp = is_cuda(device) and width is not None and width >= AMP_MIN_HIDDEN
    if not amp:
        return None
    if is_cuda(device):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16


def grad_scaler(device: torch.device, dtype: torch.dtype | None) -> torch.amp.GradScaler:
    """A gradient scaler, enabled only for fp16 on CUDA (bf16 has fp32's range and needs none)."""
    return torch.amp.GradScaler("cuda", enabled=is_cuda(device) and dtype == torch.float16)


def precision_note(device: torch.device, dtype: torch.dtype | None) -> str:
    """How the matrix products run, for the run's first line."""
    if dtype is not None:
        name = {torch.bfloat16: "bf16", torch.float16: "fp16 with a gradient scaler"}.get(
            dtype, str(dtype)
        )
        return f"mixed precision ({name})"
    return "fp32 with TF32 matrix products" if is_cuda(device) else "fp32"


@contextmanager
def fast_kernels(device: torch.device, dtype: torch.dtype | None) -> Iterator[None]:
    """On CUDA, for the block: TF32 for fp32 matrix products, and attention on the flash,
    memory-efficient or math kernels (not cuDNN's, which re-plans for every new length).
    The previous settings come back afterwards. Nothing changes elsewhere."""
    if not is_cuda(device):
        yield
        return
    from torch.nn.attention import SDPBackend, sdpa_kernel

    previous = torch.get_float32_matmul_precision()
    with ExitStack() as stack:
        if dtype is None:
            torch.set_float32_matmul_precision("high")
            stack.callback(torch.set_float32_matmul_precision, previous)
        stack.enter_context(
            sdpa_kernel(
                [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]
            )
        )
        yield


def rng_state() -> list[torch.Tensor] | None:
    """Every CUDA device's random state (None without CUDA), for a checkpoint."""
    return torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None


def set_rng_state(states: list[torch.Tensor] | None) -> None:
    if states is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states)


OutOfMemoryError = (
    torch.cuda.OutOfMemoryError
)  # raised by a CUDA allocation that does not fit (any build)
