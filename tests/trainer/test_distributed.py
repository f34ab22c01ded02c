"""DeepSpeed and several processes, on CPU: ZeRO 0 and 3 lower the loss, ZeRO-3 saves weights and
adapters that reload as the trained model, a stopped DeepSpeed run resumes to the weights of one
never stopped, and two data-parallel processes give the weights one process gives with gradient
accumulation 2.

Every DeepSpeed run is its own process (`dataforge train`, or a short script calling `train`):
DeepSpeed and accelerate keep process-wide state (the process group, the ZeRO-3 flag that
from_pretrained reads) that would leak into the other tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")
pytest.importorskip("deepspeed")

from tests.conftest import SAMPLES  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DATA = [SAMPLES / "generated" / "returns_policy_zh.chatglm3.jsonl", SAMPLES / "datasets" / "sharegpt.jsonl"]
# warnings DeepSpeed's own calls into torch.distributed raise on every step
QUIET = {**os.environ, "PYTHONWARNINGS": "ignore::FutureWarning"}


def _config(folder: Path, name: str, **settings) -> Path:
    lines = {"data": [str(p) for p in DATA], "output": str(folder / name), "template": "qwen",
             "tokenizer": "train", "vocab_size": 400, "max_len": 128, "batch_size": 2, "learning_rate": 0.005,
             "max_steps": 8, "save_steps": 100, "logging_steps": 1, **settings}
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(lines), encoding="utf-8")  # JSON is YAML
    return path


def _dataforge(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "dataforge", *args], capture_output=True, text=True,
                            cwd=REPO, env={k: v for k, v in QUIET.items() if k not in ("RANK", "WORLD_SIZE")},
                            timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return result


def _losses(run: Path) -> list[float]:
    return [x["loss"] for x in map(json.loads, (run / "log.jsonl").read_text().splitlines()) if "loss" in x]


def _weights(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(folder / "model.safetensors")


@pytest.mark.parametrize("stage", ["zero0", "zero3"])
def test_zero_stages_lower_the_loss(tmp_path, stage):
    _dataforge("train", str(_config(tmp_path, stage, deepspeed=stage)))
    run = tmp_path / stage
    losses = _losses(run)
    assert len(losses) == 8
    assert sum(losses[-3:]) / 3 < losses[0] - 0.2
    written = json.loads((run / "deepspeed.json").read_text())
    assert written["zero_optimization"]["stage"] == int(stage[-1])
    # counted whole under ZeRO-3 too, where each process holds empty placeholders
    facts = json.loads((run / "run.json").read_text())
    assert facts["parameters"] > 50_000 and facts["memory_estimate"]["weights"] > 0


# Runs in a fresh process: trains under ZeRO-3, takes the logits of the model as trained (its
# weights gathered from ZeRO-3's pieces) at the end of training, and writes them beside the run.
_LOGITS_AT_END = textwrap.dedent("""
    import json, sys
    import torch
    from transformers import TrainerCallback
    from dataforge.trainer.config import load_config
    from dataforge.trainer.distributed import gathered
    from dataforge.trainer.run import train

    IDS = torch.tensor([[5, 17, 42, 8, 99, 3, 250, 31]])

    class Logits(TrainerCallback):
        def on_train_end(self, args, state, control, model=None, **kwargs):
            with gathered(model, True), torch.no_grad():
                model.eval()
                logits = model(input_ids=IDS).logits
            torch.save(logits, sys.argv[2])

    train(load_config(sys.argv[1]), callbacks=[Logits()])
""")


def _reload_logits(model) -> torch.Tensor:
    ids = torch.tensor([[5, 17, 42, 8, 99, 3, 250, 31]])
    model.eval()
    with torch.no_grad():
        return model(input_ids=ids).logits


@pytest.mark.parametrize("method", ["full", "lora"])
def test_zero3_saves_what_it_trained(tmp_path, method):
    """Without the gather flag (full) or the gathered save (adapters), ZeRO-3 writes empty tensors:
    the reloaded model would not even load, or would give other logits."""
    from transformers import AutoModelForCausalLM

    config = _config(tmp_path, method, deepspeed="zero3", method=method, max_steps=4,
                     learning_rate=0.05 if method == "lora" else 0.005)
    result = subprocess.run([sys.executable, "-c", _LOGITS_AT_END, str(config), str(tmp_path / "trained.pt")],
                            capture_output=True, text=True, cwd=REPO, env=QUIET, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    trained = torch.load(tmp_path / "trained.pt")
    run = tmp_path / method
    if method == "full":
        reloaded = AutoModelForCausalLM.from_pretrained(run / "model")
    else:
        from peft import PeftModel

        base = AutoModelForCausalLM.from_pretrained(run / "base")
        assert all(t.numel() for t in base.state_dict().values())  # the base was saved whole too
        reloaded = PeftModel.from_pretrained(base, run / "model")
    assert torch.allclose(_reload_logits(reloaded), trained, atol=1e-5)


@pytest.mark.parametrize("stage", [None, "zero3"])
def test_two_processes_match_one_with_accumulation(tmp_path, stage):
    """Two data-parallel processes with a batch of 1 each make the same updates as one process
    with batches of 1 accumulated twice: the final weights are identical."""
    extra = {"deepspeed": stage} if stage else {}
    _dataforge("train", str(_config(tmp_path, "one", batch_size=1, grad_accum=2, max_steps=3, **extra)))
    _dataforge("train", str(_config(tmp_path, "two", batch_size=1, max_steps=3, **extra)), "--nproc", "2")
    one, two = _weights(tmp_path / "one" / "model"), _weights(tmp_path / "two" / "model")
    assert one.keys() == two.keys()
    for name in one:
        assert torch.allclose(one[name], two[name], atol=1e-6), name
    assert json.loads((tmp_path / "two" / "run.json").read_text())["processes"] == 2
    assert len(_losses(tmp_path / "two")) == 3  # one voice: rank 0 alone writes the log
    # the update was not nothing: the runs moved away from the same starting loss
    assert _losses(tmp_path / "one")[0] == pytest.approx(_losses(tmp_path / "two")[0], rel=1e-5)
    assert _losses(tmp_path / "one")[-1] != _losses(tmp_path / "one")[0]


# Runs in a fresh process: trains until the first checkpoint is saved, then stops, as a run that
# was stopped would; running `dataforge train` again on the same config resumes it.
_STOP_AT_CHECKPOINT = textwrap.dedent("""
    import sys
    from transformers import TrainerCallback
    from dataforge.trainer.config import load_config
    from dataforge.trainer.run import train

    class StopAtCheckpoint(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            control.should_training_stop = True

    train(load_config(sys.argv[1]), callbacks=[StopAtCheckpoint()])
""")


@pytest.mark.parametrize("stage", ["zero0", "zero3"])
def test_a_stopped_deepspeed_run_resumes_to_the_same_weights(tmp_path, stage):
    """DeepSpeed keeps its own checkpoints (ZeRO's pieces of the weights and optimizer state):
    a run stopped at its checkpoint and started again ends with the weights of a run that was
    never stopped."""
    _dataforge("train", str(_config(tmp_path, "whole", deepspeed=stage, save_steps=4)))
    stopped = _config(tmp_path, "stopped", deepspeed=stage, save_steps=4)
    result = subprocess.run([sys.executable, "-c", _STOP_AT_CHECKPOINT, str(stopped)], capture_output=True,
                            text=True, cwd=REPO, env=QUIET, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    assert (tmp_path / "stopped" / "checkpoints" / "checkpoint-4").is_dir()
    assert not (tmp_path / "stopped" / "model").exists()
    resumed = _dataforge("train", str(stopped))
    assert "resuming from the last checkpoint" in resumed.stdout + resumed.stderr
    whole, again = _weights(tmp_path / "whole" / "model"), _weights(tmp_path / "stopped" / "model")
    assert whole.keys() == again.keys()
    for name in whole:
        assert torch.allclose(whole[name], again[name], atol=1e-6), name
    log = [json.loads(line) for line in (tmp_path / "stopped" / "log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in log if "loss" in x] == list(range(1, 9))  # steps 5-8 after 1-4, none again


def test_deepspeed_config_errors_are_plain(tmp_path, run_line):
    bad = tmp_path / "ds.json"
    bad.write_text("{not json", encoding="utf-8")
    for value, says in (("zero9", "neither a shipped config nor a file"), (str(bad), "not a readable DeepSpeed")):
        result = run_line(f"dataforge train {_config(tmp_path, 'bad', deepspeed=value)}")
        assert result.exit_code == 2, result.stderr
        assert says in result.stderr and "Traceback" not in result.stderr


def test_a_bad_config_is_refused_before_processes_start(tmp_path, run_line):
    result = run_line(f"dataforge train {_config(tmp_path, 'bad', learning_rat=0.1)} --nproc 2")
    assert result.exit_code == 2
    assert "did you mean learning_rate?" in result.stderr and "torch.distributed.run" not in result.stderr


def test_a_users_zero3_config_is_made_to_save_weights(tmp_path):
    from dataforge.trainer.distributed import deepspeed_config

    own = tmp_path / "mine.json"
    own.write_text(json.dumps({"train_micro_batch_size_per_gpu": "auto", "zero_optimization": {"stage": 3}}))
    config, notes = deepspeed_config(str(own))
    assert config["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"] is True
    assert notes and "stage3_gather_16bit_weights_on_model_save" in notes[0]
    shipped, notes = deepspeed_config("zero3")
    assert shipped["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"] is True and not notes


def test_the_memory_estimate_follows_the_zero_stage():
    from dataforge.trainer.config import TrainConfig
    from dataforge.trainer.distributed import deepspeed_config
    from dataforge.trainer.run import memory_advice, memory_estimate

    config = TrainConfig(data=["x"], batch_size=8, max_len=1024)
    total = 7_000_000_000
    plain = memory_estimate(total, total, config, 4096, 32)
    assert plain["weights"] == total * 4 and plain["optimizer"] == total * 8
    zero3, _ = deepspeed_config("zero3")
    split = memory_estimate(total, total, config, 4096, 32, zero3, processes=8, largest_layer=131_000_000)
    assert split["weights"] == total * 4 // 8 and split["gradients"] == total * 4 // 8
    assert split["optimizer"] == total * 8 // 8
    assert split["deepspeed_model_states"] > 0  # DeepSpeed's own figure beside ours
    offload, _ = deepspeed_config("zero3-offload")
    moved = memory_estimate(total, total, config, 4096, 32, offload, processes=8, largest_layer=131_000_000)
    assert "optimizer" not in moved and "weights" not in moved
    assert moved["offloaded"] == split["optimizer"] + split["weights"]
    advice = "\n".join(memory_advice(plain, config, available=80 << 30))
    assert "batch_size=4 grad_accum=2" in advice and "zero2-offload" in advice and "method=lora" in advice
    assert memory_advice(plain, config, available=plain["total"]) == []
