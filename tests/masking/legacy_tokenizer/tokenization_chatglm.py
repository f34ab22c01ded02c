"""A tokenizer class that behaves as ChatGLM3's own does (the code its model repository ships,
written for transformers 4.x), for tests that load it with --trust-remote-code:

- [gMASK], sop, eop and the role tokens get ids after the sentencepiece vocabulary, kept in the
  class's own map: transformers' added-token table does not hold them, so encoding their text
  gives ordinary pieces; `get_command` and `convert_tokens_to_ids` give their ids;
- EOS is sentencepiece's </s>, reachable through the `<eos>` command;
- `_pad` has no `padding_side` parameter (transformers 5 passes one);
- `build_single_message(role, metadata, text)` is the role token, then the metadata line and the
  text, each encoded on its own.
"""

import os

from sentencepiece import SentencePieceProcessor
from transformers import PreTrainedTokenizer
from transformers.utils import PaddingStrategy


class SPTokenizer:
    def __init__(self, model_path):
        self.sp_model = SentencePieceProcessor(model_file=model_path)
        self.n_words = self.sp_model.vocab_size()
        self.bos_id = self.sp_model.bos_id()
        self.eos_id = self.sp_model.eos_id()
        self.pad_id = self.sp_model.unk_id()
        self.special_tokens = {}
        self.index_special_tokens = {}
        for token in ["[MASK]", "[gMASK]", "[sMASK]", "sop", "eop",
                      "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"]:
            self.special_tokens[token] = self.n_words
            self.index_special_tokens[self.n_words] = token
            self.n_words += 1

    def tokenize(self, text):
        return self.sp_model.EncodeAsPieces(text)

    def encode(self, text):
        return self.sp_model.encode(text)

    def decode(self, ids):
        return self.sp_model.decode([i for i in ids if i not in self.index_special_tokens])

    def convert_token_to_id(self, token):
        if token in self.special_tokens:
            return self.special_tokens[token]
        return self.sp_model.PieceToId(token)

    def convert_id_to_token(self, index):
        if index in self.index_special_tokens:
            return self.index_special_tokens[index]
        if index in (self.eos_id, self.bos_id, self.pad_id) or index < 0:
            return ""
        return self.sp_model.IdToPiece(index)


class ChatGLMTokenizer(PreTrainedTokenizer):
    vocab_files_names = {"vocab_file": "tokenizer.model"}
    model_input_names = ["input_ids", "attention_mask", "position_ids"]

    def __init__(self, vocab_file, padding_side="left", clean_up_tokenization_spaces=False, **kwargs):
        self.name = "GLMTokenizer"
        self.vocab_file = vocab_file
        self.tokenizer = SPTokenizer(vocab_file)
        self.special_tokens = {"<bos>": self.tokenizer.bos_id, "<eos>": self.tokenizer.eos_id,
                               "<unk>": self.tokenizer.pad_id, "<pad>": self.tokenizer.pad_id}
        super().__init__(padding_side=padding_side, clean_up_tokenization_spaces=clean_up_tokenization_spaces,
                         **kwargs)

    def get_command(self, token):
        if token in self.special_tokens:
            return self.special_tokens[token]
        assert token in self.tokenizer.special_tokens, f"{token} is not a special token for {self.name}"
        return self.tokenizer.special_tokens[token]

    @property
    def unk_token(self):
        return self.tokenizer.sp_model.IdToPiece(self.get_command("<unk>"))

    @unk_token.setter
    def unk_token(self, value):
        pass

    @property
    def pad_token(self):
        return self.tokenizer.sp_model.IdToPiece(self.get_command("<pad>"))

    @pad_token.setter
    def pad_token(self, value):
        pass

    @property
    def eos_token(self):
        return self.tokenizer.sp_model.IdToPiece(self.get_command("<eos>"))

    @eos_token.setter
    def eos_token(self, value):
        pass

    @property
    def unk_token_id(self):
        return self.get_command("<unk>")

    @property
    def pad_token_id(self):
        return self.get_command("<pad>")

    @property
    def eos_token_id(self):
        return self.get_command("<eos>")

    @property
    def vocab_size(self):
        return self.tokenizer.n_words

    def get_vocab(self):
        vocab = {self._convert_id_to_token(i): i for i in range(self.vocab_size)}
        vocab.update(self.added_tokens_encoder)
        return vocab

    def _tokenize(self, text, **kwargs):
        return self.tokenizer.tokenize(text)

    def _convert_token_to_id(self, token):
        return self.tokenizer.convert_token_to_id(token)

    def _convert_id_to_token(self, index):
        return self.tokenizer.convert_id_to_token(index)

    def convert_tokens_to_string(self, tokens):
        return self.tokenizer.sp_model.decode_pieces([t for t in tokens if t not in self.tokenizer.special_tokens])

    def save_vocabulary(self, save_directory, filename_prefix=None):
        path = os.path.join(save_directory, "tokenizer.model")
        with open(self.vocab_file, "rb") as src, open(path, "wb") as dst:
            dst.write(src.read())
        return (path,)

    def get_prefix_tokens(self):
        return [self.get_command("[gMASK]"), self.get_command("sop")]

    def build_single_message(self, role, metadata, message):
        assert role in ["system", "user", "assistant", "observation"], role
        role_tokens = [self.get_command(f"<|{role}|>")] + self.tokenizer.encode(f"{metadata}\n")
        return role_tokens + self.tokenizer.encode(message)

    def build_inputs_with_special_tokens(self, token_ids_0, token_ids_1=None):
        token_ids_0 = self.get_prefix_tokens() + token_ids_0
        if token_ids_1 is not None:
            token_ids_0 = token_ids_0 + token_ids_1 + [self.get_command("<eos>")]
        return token_ids_0

    def _pad(self, encoded_inputs, max_length=None, padding_strategy=PaddingStrategy.DO_NOT_PAD,
             pad_to_multiple_of=None, return_attention_mask=None):
        assert self.padding_side == "left"
        required_input = encoded_inputs[self.model_input_names[0]]
        seq_length = len(required_input)
        if padding_strategy == PaddingStrategy.LONGEST:
            max_length = len(required_input)
        needs_to_be_padded = padding_strategy != PaddingStrategy.DO_NOT_PAD and max_length is not None \
            and len(required_input) != max_length
        if "attention_mask" not in encoded_inputs:
            encoded_inputs["attention_mask"] = [1] * seq_length
        if "position_ids" not in encoded_inputs:
            encoded_inputs["position_ids"] = list(range(seq_length))
        if needs_to_be_padded:
            difference = max_length - len(required_input)
            encoded_inputs["attention_mask"] = [0] * difference + encoded_inputs["attention_mask"]
            encoded_inputs["position_ids"] = [0] * difference + encoded_inputs["position_ids"]
            encoded_inputs[self.model_input_names[0]] = [self.pad_token_id] * difference + required_input
        return encoded_inputs
