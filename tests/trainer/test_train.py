"""The bundled trainer on a tiny model (built from a config) with a BPE trained on the data:
what it feeds the model is preview's encoding, each method lowers the loss, a stopped run resumes
to the same weights, a LoRA merge gives the adapter's logits, and the commands work end to end."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from dataforge.trainer.config import load_config  # noqa: E402
from tests.conftest import SAMPLES  # noqa: E402

DATA = [SAMPLES / "generated" / "returns_policy_zh.chatglm3.jsonl", SAMPLES / "datasets" / "sharegpt.jsonl"]


def _config(tmp_path, **settings):
    lines = {"data": [str(p) for p in DATA], "output": str(tmp_path / "run"), "template": "qwen",
             "tokenizer": "train", "vocab_size": 400, "max_len": 128, "batch_size": 4, "learning_rate": 0.005,
             "max_steps": 12, "save_steps": 100, "logging_steps": 1, **settings}
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "train.yaml"
    path.write_text(json.dumps(lines), encoding="utf-8")  # JSON is YAML
    return load_config(path)


def _losses(run):
    return [x["loss"] for x in map(json.loads, (run / "log.jsonl").read_text().splitlines()) if "loss" in x]


class _Fed:
    """Records the labels the model is called with."""

    def __init__(self, model):
        self.labels = []
        model.register_forward_pre_hook(self.hook, with_kwargs=True)

    def hook(self, module, args, kwargs):
        self.labels.append(kwargs["labels"].clone())


def test_the_model_is_fed_previews_labels(tmp_path, run_line):
    from transformers import TrainerCallback

    from dataforge.trainer.run import train

    seen = []

    class Watch(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kwargs):
            seen.append(_Fed(model))

    config = _config(tmp_path, max_steps=3, batch_size=1)
    run = train(config, callbacks=[Watch()])
    fed = [row[0].tolist() for row in seen[0].labels]
    # preview of the same records, through the command, with the run's tokenizer and template
    wanted = []
    for path in DATA:
        for record in range(len(path.read_text(encoding="utf-8").splitlines())):
            result = run_line(f"dataforge preview {path} --record {record} --tokenizer {run / 'tokenizer'} "
                              "--template qwen --max-len 128 --output-format json")
            assert result.exit_code == 0, result.stderr
            wanted.append([t["label"] for t in json.loads(result.stdout)["tokens"]])
    assert len(fed) == 3
    for labels in fed:  # batch size 1: no padding, each batch is one record's labels
        assert labels in wanted


@pytest.mark.parametrize("method", ["full", "lora", "prefix"])
def test_each_method_lowers_the_loss(tmp_path, method):
    from dataforge.trainer.run import train

    # on a random tiny base, adapters on every projection and a high rate show the fall in few steps
    settings = {"lora": {"target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                            "down_proj", "lm_head"]}} if method == "lora" else {}
    run = train(_config(tmp_path, method=method, max_steps=15 if method == "full" else 40,
                        learning_rate=0.05 if method != "full" else 0.005,
                        **settings))
    losses = _losses(run)
    # a prefix steers a random base only a little: asked to fall, not to fall far
    factor = {"full": 0.9, "lora": 0.97, "prefix": 0.99}[method]
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 * factor, losses
    saved = {p.name for p in (run / "model").iterdir()}
    if method == "full":
        assert "model.safetensors" in saved
    else:
        assert "adapter_model.safetensors" in saved and "model.safetensors" not in saved
    assert (run / "loss.png").read_bytes()[:4] == b"\x89PNG"
    info = json.loads((run / "run.json").read_text())
    assert info["template"] == "qwen" and info["config"]["method"] == method and len(info["fingerprint"]) == 64


def test_a_stopped_run_resumes_to_the_same_weights(tmp_path):
    from safetensors.torch import load_file
    from transformers import TrainerCallback

    from dataforge.trainer.run import train

    class StopAfterCheckpoint(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            control.should_training_stop = True

    whole = train(_config(tmp_path / "a", max_steps=8, save_steps=4))
    stopped = _config(tmp_path / "b", max_steps=8, save_steps=4)
    train(stopped, callbacks=[StopAfterCheckpoint()])
    assert (tmp_path / "b" / "run" / "checkpoints" / "checkpoint-4").is_dir()
    assert not (tmp_path / "b" / "run" / "model").exists()
    resumed = train(stopped)
    a = load_file(str(whole / "model" / "model.safetensors"))
    b = load_file(str(resumed / "model" / "model.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-6), key


def test_lora_merge_gives_the_adapters_logits(tmp_path):
    from dataforge.model import Message, Role
    from dataforge.trainer.chat import load, merge, prompt_ids
    from dataforge.trainer.run import train

    run = train(_config(tmp_path, method="lora", max_steps=6, learning_rate=0.02))
    merged = merge(run, tmp_path / "merged")
    adapter, masking = load(run)
    plain, _ = load(merged)
    ids = torch.tensor([prompt_ids([Message(Role.USER, "退货需要什么条件？")], masking)])
    with torch.no_grad():
        assert torch.allclose(adapter(ids).logits, plain(ids).logits, atol=1e-4)
    assert type(plain).__module__.startswith("transformers.")


def test_train_then_chat_from_the_command_line(tmp_path, run_line):
    config = _config(tmp_path, max_steps=40, learning_rate=0.01)
    path = tmp_path / "tiny.yaml"
    path.write_text(json.dumps({**config.as_dict(), "tiny": config.tiny.__dict__, "lora": config.lora.__dict__,
                                "prefix": config.prefix.__dict__}), encoding="utf-8")
    result = run_line(f"dataforge train {path} max_steps=30")
    assert result.exit_code == 0, result.stderr
    assert "Sanity Check >>>>>>>>>>>>>" in result.stderr and "memory estimate" in result.stderr
    run = tmp_path / "run"
    assert (run / "loss.png").is_file() and (run / "log.jsonl").is_file()
    answer = run_line(f"dataforge chat {run} -m 退货需要什么条件？ --max-new-tokens 12")
    assert answer.exit_code == 0 and answer.stdout.strip()
    refused = run_line(f"dataforge chat {run} -m hi --template llama3")
    assert refused.exit_code == 2 and "trained with template 'qwen'" in refused.stderr


def test_config_mistakes_are_named_before_anything_loads(tmp_path, run_line):
    path = tmp_path / "bad.yaml"
    path.write_text("data: [x.jsonl]\nlearning_rat: 0.1\n", encoding="utf-8")
    result = run_line(f"dataforge train {path}")
    assert result.exit_code == 2 and "unknown setting 'learning_rat'" in result.stderr
    assert "did you mean learning_rate" in result.stderr
    path.write_text("data: [x.jsonl]\nlora: {alhpa: 4}\n", encoding="utf-8")
    assert "did you mean lora.alpha" in run_line(f"dataforge train {path}").stderr
    path.write_text("data: [x.jsonl]\nbatch_size: four\n", encoding="utf-8")
    assert "batch_size must be int" in run_line(f"dataforge train {path}").stderr
    path.write_text("data: [x.jsonl]\n", encoding="utf-8")
    assert "method must be" in run_line(f"dataforge train {path} method=qlora").stderr or \
        "unknown method 'qlora'" in run_line(f"dataforge train {path} method=qlora").stderr


def test_lint_errors_stop_the_run(tmp_path, run_line):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "a", "input": "", "output": 3}\n', encoding="utf-8")
    path = tmp_path / "t.yaml"
    path.write_text(f"data: [{bad}]\ntokenizer: train\noutput: {tmp_path / 'run'}\n", encoding="utf-8")
    result = run_line(f"dataforge train {path}")
    assert result.exit_code == 1 and "S005" in result.stdout
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_quantized_weights_are_refused_without_a_gpu(tmp_path):
    from dataforge.errors import DataforgeError
    from dataforge.trainer.run import train

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(DataforgeError, match="need a CUDA GPU"):
        train(_config(tmp_path, method="lora", quantize=4))
    with pytest.raises(DataforgeError, match="cannot be trained in full"):
        _config(tmp_path, quantize=8)


def test_eval_split_is_checked_and_evaluated(tmp_path):
    from dataforge.trainer.run import train

    run = train(_config(tmp_path, eval=2, max_steps=4, save_steps=2, group_by_length=True))
    lines = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert any("eval_loss" in x for x in lines)


def test_packing_gives_the_padded_batchs_loss(tmp_path):
    """The run's own examples, padded and packed: the same loss on the same model (an example
    attends only to itself, the first token of each is not a target); packed without the
    position restarts (attending across examples), the loss differs, so the check can fail."""
    from dataforge.trainer.data import Collator, PackingCollator
    from dataforge.trainer.model import build_model
    from dataforge.trainer.run import prepare

    config = _config(tmp_path)
    masking, examples = prepare(config)
    model = build_model(config, masking.tokenizer)
    model.eval()
    batch = examples.train[:4]
    assert len({len(e["input_ids"]) for e in batch}) > 1  # lengths differ: the padded batch pads
    with torch.no_grad():
        padded = model(**Collator(0)(batch)).loss
        packed_inputs = PackingCollator(0)(batch)
        packed = model(**packed_inputs).loss
        packed_inputs["position_ids"] = torch.arange(packed_inputs["input_ids"].shape[1])[None]
        across = model(**packed_inputs).loss
    assert packed_inputs["input_ids"].shape[1] == sum(len(e["input_ids"]) for e in batch)  # no padding
    assert torch.allclose(packed, padded, atol=1e-5)
    assert not torch.allclose(across, padded, atol=1e-3)


def test_a_packed_run_lowers_the_loss(tmp_path):
    from dataforge.trainer.run import train

    run = train(_config(tmp_path, packing=True, max_steps=15))
    losses = _losses(run)
    assert sum(losses[-3:]) / 3 < losses[0] - 0.5


def test_packing_with_prefix_tuning_is_refused(tmp_path):
    from dataforge.errors import DataforgeError

    with pytest.raises(DataforgeError, match="packing cannot be used with prefix tuning"):
        _config(tmp_path, packing=True, method="prefix")
