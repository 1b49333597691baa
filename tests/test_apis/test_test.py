"""tools/test.py and mmseg_ext.apis.test: mIoU, the official Cityscapes evaluation and
the official submission format, on a tiny Cityscapes in its published layout."""
import importlib.util
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
from fixtures.online_cfg import SIZE_MAP, write_source_checkpoint
from fixtures.real_layouts import build_cityscapes
from mmseg.core.evaluation.metrics import pre_eval_to_metrics
from mmseg.datasets import build_dataset
from PIL import Image

from mmseg_ext.apis.config import load_config
from mmseg_ext.datasets.prepare import label_id_to_train_id, prepare_cityscapes

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'source', 'segformer_mit-b1_cityscapes.py')
VAL = ['frankfurt_000000_000019', 'frankfurt_000001_000019']
SMALL = 'data.test.pipeline.1.img_scale=(128,64)'  # the fixture's 1024x512


def _tool():
    spec = importlib.util.spec_from_file_location('test_tool', osp.join(REPO, 'tools', 'test.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def cityscapes(tmp_path_factory):
    root = build_cityscapes(str(tmp_path_factory.mktemp('real') / 'cityscapes'))
    prepare_cityscapes(root, expected=None, class_stats=False)
    return root


def _small_test_cfg(root):
    cfg = load_config(CONFIG, dict(cityscapes_root=root))
    cfg.data.test.pipeline[1].img_scale = SIZE_MAP[tuple(cfg.data.test.pipeline[1].img_scale)]
    cfg.model.backbone.pretrained = None  # no ImageNet weights here
    return cfg


@pytest.fixture(scope='module')
def checkpoint(cityscapes, tmp_path_factory):
    cfg = _small_test_cfg(cityscapes)
    return write_source_checkpoint(cfg, str(tmp_path_factory.mktemp('ckpt') / 'model.pth'))


def test_project_miou_equals_the_official_one(cityscapes, tmp_path):
    """The same predictions (ground truth with rows shifted, classes swapped) scored by
    mmseg's mIoU and by cityscapesscripts' evalPixelLevelSemanticLabeling."""
    import cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling as cs_eval
    ds = build_dataset(_small_test_cfg(cityscapes).data.test)
    preds = []
    for i, info in enumerate(ds.img_infos):
        gt = ds.get_gt_seg_map_by_idx(i).astype(np.int64)
        pred = np.roll(np.where(gt == 255, 0, gt), 3 + i, axis=0)  # shifted bands
        pred[pred == 2] = 8  # building predicted as vegetation
        preds.append(pred)
    pre_eval = ds.pre_eval(preds, list(range(len(ds))))
    exact = np.nanmean(pre_eval_to_metrics(pre_eval, ['mIoU'])['IoU'])
    shown = ds.evaluate(pre_eval, metric='mIoU')['mIoU']  # mmseg rounds to 0.01 %
    ds.format_results(preds, imgfile_prefix=str(tmp_path), to_label_id=True)
    cs_eval.args.predictionWalk = None
    official = ds.evaluate(None, metric='cityscapes', imgfile_prefix=str(tmp_path))
    assert 0.1 < exact < 0.9
    assert exact == pytest.approx(official['averageScoreClasses'], abs=1e-6)
    assert shown == pytest.approx(official['averageScoreClasses'], abs=5e-5)


def test_tool_eval_miou_and_cityscapes(cityscapes, checkpoint, tmp_path, capsys):
    scores = _tool().main([CONFIG, checkpoint, '--eval', 'mIoU', 'cityscapes',
                           '--work-dir', str(tmp_path), '--cfg-options',
                           f'cityscapes_root={cityscapes}', SMALL])
    clear = scores['clear']
    assert np.isfinite(clear['mIoU'])
    assert clear['mIoU'] == pytest.approx(clear['averageScoreClasses'], abs=5e-5)
    (written,) = os.listdir(tmp_path)
    with open(tmp_path / written) as f:
        assert json.load(f)['metric']['clear']['mIoU'] == pytest.approx(clear['mIoU'])
    assert 'clear: {' in capsys.readouterr().out


def test_tool_format_only_writes_official_label_id_pngs(cityscapes, checkpoint, tmp_path):
    out = tmp_path / 'submit'
    _tool().main([CONFIG, checkpoint, '--format-only', '--eval-options',
                  f'imgfile_prefix={out}', '--cfg-options', f'cityscapes_root={cityscapes}',
                  SMALL])
    assert sorted(os.listdir(out)) == [f'{n}_leftImg8bit.png' for n in VAL]
    png = np.asarray(Image.open(out / f'{VAL[0]}_leftImg8bit.png'))
    assert png.shape == (64, 128) and png.dtype == np.uint8
    train_ids = label_id_to_train_id()[png]  # every value is the label id of a train id
    assert (train_ids < 19).all()
    # the same pixels as the model's prediction, in label ids
    from mmseg.models import build_segmentor
    cfg = _small_test_cfg(cityscapes)
    ds = build_dataset(cfg.data.test)
    model = build_segmentor(cfg.model)
    model.load_state_dict(torch.load(checkpoint)['state_dict'])
    model.eval()
    data = ds[0]
    with torch.no_grad():
        pred = model.simple_test(data['img'][0][None], [data['img_metas'][0].data])[0]
    np.testing.assert_array_equal(train_ids, pred)


def test_tool_refuses_nothing_to_do_and_unknown_metric(checkpoint, cityscapes):
    with pytest.raises(SystemExit, match='nothing to do'):
        _tool().main([CONFIG, checkpoint])
    with pytest.raises(ValueError, match=r"unknown metric\(s\) \['IoU'\]"):
        _tool().main([CONFIG, checkpoint, '--eval', 'IoU', '--cfg-options',
                      f'cityscapes_root={cityscapes}'])
