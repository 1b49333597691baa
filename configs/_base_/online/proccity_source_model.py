# The source model every ProcCity online config starts from: SegFormer MiT-B0 trained
# on clear ProcCity (configs/online/proccity_source_mit-b0.py), cached by `make demo`.
# A missing file stops the run before any work, quoting the recipe. Listed in place of
# default_runtime.py, which it extends.
_base_ = ['../default_runtime.py']
load_from = 'pretrained/proccity_segformer_mit-b0_source.pth'
load_from_recipe = ('make demo trains and caches it; or python tools/train.py '
                    'configs/online/proccity_source_mit-b0.py --work-dir work_dirs/src; '
                    'cp work_dirs/src/latest.pth pretrained/proccity_segformer_mit-b0_source.pth')
