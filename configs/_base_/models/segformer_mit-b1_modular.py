# HAMLET's model (Colomer et al., ICCV 2023): MiT-B1 seen as 4 modules (stages) and
# the NVlabs head with a lightweight decoder after module 1. HAMLET's mitb1_uda.pth
# loads into it after `tools/convert_weights.py` (layout 'hamlet').
_base_ = ['./segformer_mit-b1.py']
model = dict(
    type='ModularEncoderDecoder',
    decode_module=None,  # module the deployed model decodes from; None: the last
    decode_head=dict(
        type='ModularSegFormerHead',
        interpolate_mode='bilinear',
        exit_modules=[1]))  # modules with a lightweight decoder
