"""A run's history: one record per finished epoch, the test accuracy, the settings
of each stretch of epochs; saved as ``history.json`` beside the checkpoint."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bertnli.files import atomic_write
from bertnli.messages import text


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    train_acc: float
    test_acc: float | None  # per epoch only without a dev set (the old form); else None
    examples_per_sec: float
    seconds: float
    device: str
    valid_acc: float | None = None  # dev accuracy after this epoch


@dataclass
class History:
    """One record per finished epoch (dev accuracy in ``valid_acc``) and the test accuracy,
    measured once after the last epoch (``test_acc``); saved as JSON next to the checkpoint."""

    epochs: list[EpochRecord] = field(default_factory=list)
    interrupted: bool = False
    test_acc: float | None = None
    # The settings each stretch of epochs ran with: [{"from_epoch": 1, "lr": ..., ...}, ...];
    # a resume that changes how the run goes (lr, epochs, batch size, device, ...) starts one.
    segments: list[dict] = field(default_factory=list)
    stopped_by: str | None = None  # "SIGINT", "SIGTERM" or "SIGHUP" when a signal stopped the run

    def to_dict(self) -> dict:
        return {
            "epochs": [asdict(e) for e in self.epochs],
            "interrupted": self.interrupted,
            "test_acc": self.test_acc,
            "segments": list(self.segments),
            "stopped_by": self.stopped_by,
        }

    @classmethod
    def from_dict(cls, data: dict) -> History:
        """A saved history; files from before segments and ``stopped_by`` read as having none."""
        return cls(
            [EpochRecord(**e) for e in data.get("epochs", [])],
            bool(data.get("interrupted", False)),
            data.get("test_acc"),
            list(data.get("segments") or []),
            data.get("stopped_by"),
        )

    def begin_segment(self, settings: dict, from_epoch: int) -> None:
        """Record that epochs from ``from_epoch`` on run with ``settings``: a new segment when
        they differ from the last one's (replacing it if it never finished an epoch)."""
        if (
            self.segments
            and {k: v for k, v in self.segments[-1].items() if k != "from_epoch"} == settings
        ):
            return
        if self.segments and self.segments[-1].get("from_epoch", 0) >= from_epoch:
            self.segments.pop()
        self.segments.append({"from_epoch": from_epoch, **settings})

    def save(self, path: str | Path) -> None:
        atomic_write(path, json.dumps(self.to_dict(), indent=2))

    @classmethod
    def load(cls, path: str | Path) -> History:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def __getitem__(self, key: str) -> list:
        """``history["test_acc"]``: one column as a list."""
        return [getattr(e, key) for e in self.epochs]

    def __len__(self) -> int:
        return len(self.epochs)

    def summary(self) -> str:
        """The last epoch in one line, in the reader's language (``bertnli.messages``)."""
        if not self.epochs:
            return text("history.empty")
        e = self.epochs[-1]
        test = self.test_acc if self.test_acc is not None else e.test_acc
        dev = text("history.dev", acc=e.valid_acc) if e.valid_acc is not None else ""
        return text(
            "history.summary",
            loss=e.train_loss,
            train_acc=e.train_acc,
            dev=dev,
            test=f"{test:.3f}" if test is not None else "n/a",
            rate=e.examples_per_sec,
            device=e.device,
        )
