"""The tokenizer and the model a run trains, and the method wrapped around the model.

- ``tokenizer: train`` trains a small byte-level BPE on the run's own data, offline, in well
  under a second, with the template's markers as single special tokens (what samples/ and the
  tests use: Qwen's 151,643-token vocabulary makes a tiny model's output layer 20x its body).
- ``model`` unset builds a tiny Llama or Qwen2 from the ``tiny`` settings (no download).
- ``method``: full (every weight), lora (peft LoRA adapters on ``lora.target_modules``), prefix
  (peft prefix tuning with ``prefix.virtual_tokens``, P-Tuning v2's PRE_SEQ_LEN: only the prefix
  is trained and saved).
"""

from __future__ import annotations

from pathlib import Path

from dataforge.errors import DataforgeError
from dataforge.masking.tokenizer import TextTokenizer, load_tokenizer

END = "<|endoftext|>"


def train_tokenizer(texts, specials: list[str], vocab_size: int, folder: Path) -> TextTokenizer:
    """A byte-level BPE trained on ``texts``, saved into ``folder`` and loaded from there."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = list(dict.fromkeys([END, *specials]))
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    hf = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token=END, pad_token=END)
    hf.add_special_tokens({"additional_special_tokens": [t for t in specials if t != END]})
    folder.mkdir(parents=True, exist_ok=True)
    hf.save_pretrained(str(folder))
    return load_tokenizer(str(folder))


def build_model(config, tokenizer: TextTokenizer, prefix_tokens: int = 0):
    """The model: loaded from ``config.model``, or tiny from ``config.tiny``."""
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(config.seed)
    hf = tokenizer.hf
    if config.quantize and not torch.cuda.is_available():
        raise DataforgeError(f"{config.quantize}-bit base weights need a CUDA GPU (bitsandbytes); this machine has none",
                             hint="drop quantize, or train on a GPU machine")
    if config.model:
        extra = {}
        if config.quantize:
            from transformers import BitsAndBytesConfig

            extra["quantization_config"] = BitsAndBytesConfig(load_in_8bit=config.quantize == 8,
                                                              load_in_4bit=config.quantize == 4)
        try:
            return AutoModelForCausalLM.from_pretrained(config.model, local_files_only=True,
                                                        trust_remote_code=config.trust_remote_code, **extra)
        except (OSError, ValueError) as exc:
            raise DataforgeError(f"{config.model}: cannot load a model ({str(exc).splitlines()[0]})") from None
    tiny = config.tiny
    from transformers import LlamaConfig, Qwen2Config

    kinds = {"llama": LlamaConfig, "qwen2": Qwen2Config}
    if tiny.architecture not in kinds:
        raise DataforgeError(f"unknown tiny architecture {tiny.architecture!r}", hint="llama or qwen2")
    model_config = kinds[tiny.architecture](
        vocab_size=len(hf), hidden_size=tiny.hidden_size, num_hidden_layers=tiny.layers,
        num_attention_heads=tiny.heads, num_key_value_heads=tiny.heads, intermediate_size=tiny.intermediate_size,
        max_position_embeddings=config.max_len + prefix_tokens + 8, pad_token_id=hf.pad_token_id,
        eos_token_id=hf.eos_token_id, bos_token_id=hf.bos_token_id, tie_word_embeddings=False)
    return AutoModelForCausalLM.from_config(model_config)


def apply_method(model, config):
    """``model`` with the method's trainable parts (itself for full fine-tuning)."""
    if config.method == "full":
        return model
    from peft import LoraConfig, PrefixTuningConfig, TaskType, get_peft_model

    if config.method == "lora":
        lora = config.lora
        settings = LoraConfig(task_type=TaskType.CAUSAL_LM, r=lora.r, lora_alpha=lora.alpha,
                              lora_dropout=lora.dropout, target_modules=list(lora.target_modules))
    else:
        settings = PrefixTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=config.prefix.virtual_tokens)
    return get_peft_model(model, settings)


def parameter_counts(model) -> tuple[int, int]:
    """(all parameters, trainable ones)."""
    total = sum(numel(p) for p in model.parameters())
    trained = sum(numel(p) for p in model.parameters() if p.requires_grad)
    return total, trained


def numel(parameter) -> int:
    """Its size, also under ZeRO-3, where each process holds an empty placeholder and DeepSpeed
    keeps the real size in ``ds_numel``."""
    return getattr(parameter, "ds_numel", None) or parameter.numel()
