"""Training examples: the linted set, split, encoded by the masking session, batched.

The ids and labels come from ``MaskingSession.encode_many`` as they are (the encoding `preview`
shows, in its label convention); this module only drops samples with no trained token (they
would add nothing but a NaN-prone zero-token loss), pads batches (pad id, attention 0, label
-100) and reports what it did.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from dataforge.collect import Collected, collect
from dataforge.masking.session import MaskingSession
from dataforge.split import split_samples

IGNORE = -100


@dataclass
class Examples:
    train: list[dict] = field(default_factory=list)  # {"input_ids": [...], "labels": [...]}
    eval: list[dict] = field(default_factory=list)
    untrained: int = 0  # samples left out: nothing to train after the cut at max_len
    collected: Collected | None = None

    def fingerprint(self) -> str:
        """sha256 over every example's ids and labels: the same data gives the same run."""
        h = hashlib.sha256()
        for part in (self.train, self.eval):
            for e in part:
                h.update(repr((e["input_ids"], e["labels"])).encode())
            h.update(b"|")
        return h.hexdigest()


def encode_examples(samples, masking: MaskingSession) -> tuple[list[dict], int]:
    """(examples with something trained, samples without)."""
    examples, untrained = [], 0
    for encoded in masking.encode_many(list(samples)):
        if encoded.trained == 0:
            untrained += 1
            continue
        examples.append({"input_ids": list(encoded.input_ids), "labels": list(encoded.labels)})
    return examples, untrained


def load_examples(data: list[str], masking: MaskingSession, eval_size=None, seed: int = 0) -> Examples:
    """Lint (errors stop the run: collect raises Refused), split, encode."""
    collected = collect(data)
    samples = collected.samples
    result = Examples(collected=collected)
    if eval_size is not None:
        split = split_samples(samples, eval_size, seed)
        train = [samples[i] for i in split.train]
        held = [samples[i] for i in split.eval]
    else:
        train, held = samples, []
    result.train, lost = encode_examples(train, masking)
    result.eval, lost_eval = encode_examples(held, masking) if held else ([], 0)
    result.untrained = lost + lost_eval
    return result


class Collator:
    """Pads a list of examples to its longest: input_ids with the pad id, labels with -100."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id
        # counted over every batch made, for the step log: real tokens, trained ones, and the
        # places in the batches (tokens plus padding)
        self.tokens = self.trained = self.slots = 0


    def __call__(self, batch: list[dict]):
        import torch

        longest = max(len(e["input_ids"]) for e in batch)
        ids, labels, mask = [], [], []
        for e in batch:
            n = len(e["input_ids"])
            ids.append(e["input_ids"] + [self.pad_id] * (longest - n))
            labels.append(e["labels"] + [IGNORE] * (longest - n))
            mask.append([1] * n + [0] * (longest - n))
            self.tokens += n
            self.trained += n - e["labels"].count(IGNORE)
        self.slots += longest * len(batch)
        return {"input_ids": torch.tensor(ids), "labels": torch.tensor(labels), "attention_mask": torch.tensor(mask)}


class PackingCollator(Collator):
    """Padding-free packing: a batch's examples end to end in one row, with position ids that
    start again at 0 for each example and no attention mask. transformers' own attention reads
    the restarts as boundaries (an example never attends to another), and each example's first
    label is -100 so no example is trained to predict the next one's first token. The loss is
    then the mean over the batch's trained tokens, exactly as for the padded batch."""

    def __call__(self, batch: list[dict]):
        import torch

        ids, labels, positions = [], [], []
        for e in batch:
            n = len(e["input_ids"])
            row = [IGNORE, *e["labels"][1:]]
            ids += e["input_ids"]
            labels += row
            positions += range(n)
            self.tokens += n
            self.trained += n - row.count(IGNORE)
        self.slots += len(ids)
        # use_cache=False: a model that builds a cache (generation's default) skips the packed mask
        return {"input_ids": torch.tensor([ids]), "labels": torch.tensor([labels]),
                "position_ids": torch.tensor([positions]), "use_cache": False}
