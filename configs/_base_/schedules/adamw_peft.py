# AdamW of adamw.py for parameter-efficient adaptation (frozen backbone with
# adapters, injectors, ViDA or prompts): the optimizer holds the trainable
# parameters only, not the frozen backbone nor EMA teachers / reference models.
# Do not use with modular training that unfreezes stages during the run.
_base_ = ['./adamw.py']
optimizer = dict(paramwise_cfg=dict(skip_frozen=True))
