"""The bundled trainer (DeepSpeed: full fine-tuning, LoRA with merge, P-Tuning v2), still to come.

It ships in the wheel as `dataforge.trainer` and will take its batches from
`dataforge.masking.session.MaskingSession.encode_many`, so that what `dataforge preview` shows is
what gets trained.
"""
