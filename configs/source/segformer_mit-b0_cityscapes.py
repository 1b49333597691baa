# The Cityscapes source model of experiments 5 and 6 (config.DATASETS: cs_storm,
# cs_acdc load pretrained/segformer_mit-b0_cityscapes.pth): SegFormer MiT-B0 trained
# on Cityscapes (clear) train from NVlabs' ImageNet encoder, SegFormer's recipe: AdamW
# 6e-5, head lr x10, poly decay after 1500 warm-up iterations, 40k iterations at
# 512x512 crops, batch 2. Needs data/cityscapes (configs/_base_/datasets/cityscapes.py)
# and a GPU. Recipe (pretrained/README.md, "Cityscapes source models"):
#   python tools/convert_weights.py mit_b0.pth pretrained/mit_b0.pth --parts encoder
#   python tools/train.py configs/source/segformer_mit-b0_cityscapes.py \
#       --work-dir work_dirs/segformer_mit-b0_cityscapes
#   cp work_dirs/segformer_mit-b0_cityscapes/latest.pth pretrained/segformer_mit-b0_cityscapes.pth
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/segformer_mit-b0.py',
    '../_base_/datasets/cityscapes.py',
    '../_base_/schedules/adamw.py',
    '../_base_/schedules/poly10warm.py',
    '../_base_/schedules/source_40k.py',
]
# NVlabs' ImageNet-1k MiT-B0 encoder (any known key layout; converted when loaded)
model = dict(backbone=dict(pretrained='pretrained/mit_b0.pth'))
