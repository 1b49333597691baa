# Frozen MiT-B1 with adapters in the last stage only: no gradient is computed
# for stages 1-3 (nothing trainable before stage 4), the cheapest adaptation
# step of the adapter family (bench/bench_adapters.py).
_base_ = ['./segformer_mit-b1_adapter-half.py']
model = dict(backbone=dict(adapt_blocks=[3]))
