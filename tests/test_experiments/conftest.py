"""Tiny ProcCity data (2 images per split and rain rate, 64x128) and a tiny MiT-B0
source checkpoint, made once per test session for the sweep training tests."""
import os.path as osp

import pytest
import torch
from mmcv.runner import save_checkpoint
from mmcv.utils import Config
from mmseg.models import build_segmentor

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RAIN = (25, 50, 75, 100, 200)


@pytest.fixture(scope='session')
def tiny_proccity(tmp_path_factory):
    """Root of a ProcCity set with train/val/test splits, every rain rate and the
    demo's ACDC-like conditions (fog 75 m, night 5, snow 5)."""
    from mmseg_ext.datasets.synth import write_proccity, write_weather
    root = str(tmp_path_factory.mktemp('proccity'))
    splits = {'train': 2, 'val': 2, 'test': 2}
    write_proccity(root, splits, size=(64, 128), seed=0, workers=1, progress=False)
    # every rain rate (the storm) and the demo's ACDC-like conditions
    write_weather(root, rain=RAIN, fog=(75,), splits=tuple(splits), seed=0, workers=1,
                  progress=False, conditions=dict(night=(5,), snow=(5,)))
    return root


@pytest.fixture(scope='session')
def tiny_source_checkpoint(tmp_path_factory):
    """A MiT-B0 SegFormer checkpoint (random weights) the sweeps' runs start from."""
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/models/segformer_mit-b0.py'))
    torch.manual_seed(0)
    model = build_segmentor(cfg.model)
    path = str(tmp_path_factory.mktemp('pretrained') / 'source.pth')
    save_checkpoint(model, path)
    return path
