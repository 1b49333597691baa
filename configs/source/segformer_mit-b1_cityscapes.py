# The source model of HAMLET's Cityscapes experiments (and of experiment 7's MiT-B1
# runs, which load pretrained/segformer_mit-b1_cityscapes.pth): SegFormer MiT-B1 trained on
# Cityscapes (clear) from NVlabs' ImageNet encoder (pretrained/mit_b1.pth, converted
# from its layout when loaded), SegFormer's recipe: AdamW 6e-5, head lr x10, poly
# decay after 1500 warm-up iterations, 40k iterations at 512x512 crops, batch 2.
# Needs data/cityscapes (see configs/_base_/datasets/cityscapes.py) and a GPU.
#   python tools/convert_weights.py mit_b1.pth pretrained/mit_b1.pth --parts encoder
#   python tools/train.py configs/source/segformer_mit-b1_cityscapes.py \
#       --work-dir work_dirs/segformer_mit-b1_cityscapes
#   cp work_dirs/segformer_mit-b1_cityscapes/latest.pth pretrained/segformer_mit-b1_cityscapes.pth
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/segformer_mit-b1.py',
    '../_base_/datasets/cityscapes.py',
    '../_base_/schedules/adamw.py',
    '../_base_/schedules/poly10warm.py',
    '../_base_/schedules/source_40k.py',
]
model = dict(backbone=dict(pretrained='pretrained/mit_b1.pth'))
