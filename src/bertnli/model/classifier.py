"""The NLI classifier: the pretrained encoder and pooler, plus a new 3-way output layer."""

from __future__ import annotations

import torch
from torch import nn

from bertnli.model.bert import BERTConfig, BERTModel


class BERTClassifier(nn.Module):
    """``model(tokens, segments, valid_lens) -> logits [batch, num_classes]``.

    Keeps BERT's ``encoder`` and its pooler ``hidden`` (a Linear + Tanh trained by
    next-sentence prediction to summarize a pair at ``<cls>``) and adds one new
    ``nn.Linear(num_hiddens, num_classes)``. The masked-LM and next-sentence heads are
    dropped: fine-tuning neither needs nor updates them. ``dropout`` (default 0, as in the
    reference run) applies to the pooled vector before the new layer.
    """

    def __init__(self, bert: BERTModel, num_classes: int = 3, dropout: float = 0.0):
        super().__init__()
        self.bert_config: BERTConfig = bert.config
        self.num_classes = num_classes
        self.encoder = bert.encoder
        self.hidden = bert.hidden
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(bert.config.num_hiddens, num_classes)

    def forward(
        self, tokens: torch.Tensor, segments: torch.Tensor, valid_lens: torch.Tensor
    ) -> torch.Tensor:
        encoded = self.encoder(tokens, segments, valid_lens)  # [batch, seq, hidden]
        pooled = self.hidden(encoded[:, 0, :])  # [batch, hidden], at <cls>
        return self.output(self.dropout(pooled))  # [batch, num_classes]

    def describe(self) -> dict:
        """What a checkpoint needs to rebuild this module."""
        return {
            "bert": self.bert_config.to_dict(),
            "num_classes": self.num_classes,
            "dropout": self.dropout.p,
        }

    @classmethod
    def from_description(cls, description: dict) -> BERTClassifier:
        bert = BERTModel.from_config(description["bert"])
        return cls(bert, num_classes=description["num_classes"], dropout=description["dropout"])
