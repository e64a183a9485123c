"""bertnli.book.plots: the training curves' legend and the length-histogram marks."""

from __future__ import annotations

from bertnli.book import plots
from bertnli.run.train import History


def test_plot_history_shows_dev_and_the_final_test():
    import matplotlib

    matplotlib.use("Agg")
    history = History.from_dict(
        {
            "epochs": [
                {
                    "epoch": i,
                    "train_loss": 1 / i,
                    "train_acc": 0.5,
                    "test_acc": None,
                    "examples_per_sec": 1.0,
                    "seconds": 1.0,
                    "device": "cpu",
                    "valid_acc": 0.4 + i / 10,
                }
                for i in (1, 2)
            ],
            "test_acc": 0.61,
        }
    )
    labels = [t.get_text() for t in plots.plot_history(history).get_legend().get_texts()]
    assert any(label.startswith("dev acc") for label in labels)
    assert any("0.610" in label for label in labels) and not any(
        label.startswith("test acc ·") for label in labels
    )


def test_equal_marks_merge_into_one():
    assert plots.merge_marks([(128, "reference"), (128, "profile")]) == [
        (128, "reference / profile")
    ]
    assert plots.merge_marks([(128, "reference"), (64, "profile")]) == [
        (128, "reference"),
        (64, "profile"),
    ]
