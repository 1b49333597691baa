"""ONDA_TINY: the smoke-test sizes the command-line tools apply."""
from mmcv.utils import Config

from mmseg_ext.apis.tiny import TINY_SIZE, is_tiny, tiny_cfg_options, tiny_splits


def test_is_tiny_reads_the_variable():
    assert [is_tiny(e) for e in ({}, {'ONDA_TINY': '0'}, {'ONDA_TINY': ''},
                                 {'ONDA_TINY': '1'})] == [False, False, False, True]


def test_tiny_sizes():
    assert tiny_splits(dict(train=500, val=30, test=60)) == dict(train=4, val=2, test=2)
    assert tiny_splits(dict(train=1, test=0)) == dict(train=1, test=0)
    assert TINY_SIZE == (64, 128)


def test_tiny_cfg_options_for_source_and_online_runs(repo_root):
    source = Config.fromfile(f'{repo_root}/configs/online/proccity_source_mit-b0.py')
    assert tiny_cfg_options(source) == {
        'runner.max_iters': 2, 'data.samples_per_gpu': 2, 'checkpoint_config.interval': 2,
        'evaluation.interval': 2, 'lr_config.warmup_iters': 1}
    online = Config.fromfile(f'{repo_root}/configs/online/proccity_mit-b0_dacs.py')
    assert tiny_cfg_options(online) == {
        'runner.frames_per_domain': 1, 'online_evaluation.max_images': 1,
        'runner.domain_order': ['fog75m', 'night5']}  # the demo's ACDC-like stream
