"""One masking set-up (tokenizer, template, options), shared by preview, lint and the trainer."""

from __future__ import annotations

from dataclasses import dataclass, replace

from dataforge.masking.encode import EncodedSample, EncodeOptions, encode, encode_many
from dataforge.masking.preview import Summary, TokenRow, summarize, token_rows
from dataforge.masking.tokenizer import TextTokenizer, load_tokenizer
from dataforge.model import Sample
from dataforge.templates import Template, default_template_for, get_template
from dataforge.templates.render import MaskOptions


@dataclass
class MaskingSession:
    tokenizer: TextTokenizer
    template: Template | None  # None: the tokenizer's own chat template (`hf`)
    options: EncodeOptions

    @property
    def template_name(self) -> str:
        return self.template.name if self.template is not None else "hf"

    @classmethod
    def create(cls, tokenizer: str | None = None, template: str | None = None, format_name: str | None = None,
               trust_remote_code: bool = False, options: EncodeOptions = EncodeOptions()) -> MaskingSession:
        name = template or default_template_for(format_name or "")
        return cls(load_tokenizer(tokenizer, trust_remote_code), None if name == "hf" else get_template(name), options)

    @classmethod
    def from_args(cls, args, format_name: str | None) -> MaskingSession:
        mask = MaskOptions(train_on_prompt=getattr(args, "train_on_prompt", False),
                           last_turn_only=getattr(args, "last_turn_only", False),
                           train_end_of_turn=not getattr(args, "no_train_end_of_turn", False))
        options = EncodeOptions(mask=mask, max_len=args.max_len, truncation=getattr(args, "truncation", "right"),
                                labels=getattr(args, "labels", "unshifted"))
        return cls.create(args.tokenizer, args.template, format_name, args.trust_remote_code, options)

    def encode(self, sample: Sample) -> tuple[EncodedSample, list[str]]:
        """(encoded sample, warnings); warnings only come from `hf` templates without markers.

        A preference pair is encoded as its prompt followed by the chosen reply.
        """
        sample = self._cut(as_conversation(sample))
        if self.template is None:
            from dataforge.masking.hf_template import encode_hf

            return encode_hf(sample, self.tokenizer, self.options)
        return encode(sample, self.template, self.tokenizer, self.options), []

    def encode_many(self, samples: list[Sample]) -> list[EncodedSample]:
        if self.template is None:
            return [self.encode(s)[0] for s in samples]
        return encode_many([self._cut(as_conversation(s)) for s in samples], self.template, self.tokenizer,
                           self.options)

    def _cut(self, sample: Sample) -> Sample:
        """A record far longer than ``max_len`` tokens, cut to a prefix that still holds more than
        ``max_len`` tokens, so a 100 MB record is not tokenized whole only to keep its start.

        Only with right truncation (the others keep the end), and only past CHARS_PER_TOKEN
        characters a token: no tokenizer's tokens are that long on ordinary text, so the
        records of real datasets are never cut here, and the tokens kept are the ones the whole
        record would give.
        """
        limit = self.options.max_len
        if not limit or self.options.truncation != "right":
            return sample
        return cut_to(sample, limit * CHARS_PER_TOKEN + 4096)

    def preview(self, sample: Sample) -> tuple[EncodedSample, list[TokenRow], Summary]:
        shown = MaskingSession(self.tokenizer, self.template, replace(self.options, spans=True))
        encoded, warnings = shown.encode(sample)
        conversation = as_conversation(sample)
        if self._cut(conversation) is not conversation:
            warnings = [*warnings, f"the record is over {self.options.max_len * CHARS_PER_TOKEN + 4096:,} characters: "
                                   "only its start was tokenized, so the count of tokens removed is a lower bound"]
        return encoded, token_rows(encoded, self.tokenizer), summarize(encoded, as_conversation(sample),
                                                                        self.template, self.tokenizer, warnings)


CHARS_PER_TOKEN = 64


def cut_to(sample: Sample, budget: int) -> Sample:
    """``sample`` with its messages' text cut after ``budget`` characters in all (later messages
    dropped); the sample itself when it is shorter."""
    contents = sample.contents
    if sum(map(len, contents)) <= budget:
        return sample
    kept, used = [], 0
    for text in contents:
        kept.append(text[:budget - used])
        used += len(kept[-1])
        if used >= budget:
            break
    n = len(kept)

    def first(values):
        return values[:n] if values is not None else None

    return sample._replace(roles=sample.roles[:n], contents=tuple(kept), losses=sample.losses[:n],
                           paths=sample.paths[:n], names=first(sample.names), arguments=first(sample.arguments),
                           data=first(sample.data))


def as_conversation(sample: Sample) -> Sample:
    """A preference pair as the conversation that is trained towards: the prompt and the chosen reply."""
    if sample.chosen is None:
        return sample
    return Sample.of((*sample.messages, sample.chosen), tools=sample.tools, meta=sample.meta)
