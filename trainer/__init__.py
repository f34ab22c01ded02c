"""The bundled trainer: `dataforge train CONFIG.yaml`.

Training runs through transformers' Trainer (with peft for LoRA and P-Tuning v2), on examples
made by `dataforge.masking.session.MaskingSession.encode_many`, unchanged: the ids and labels
`dataforge preview` shows are the ones the model is fed. It ships in the wheel as
`dataforge.trainer`; in a checkout, dataforge/trainer/ points here.

Modules: config (settings, checked without torch), data (examples and batches), model (the
model, tiny or from a folder, and the method), run (the run folder, the Trainer, its logs).
"""
