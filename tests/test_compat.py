"""Each fix of mmseg_ext.compat, on CPU."""
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmcv.runner import load_checkpoint as mmcv_load_checkpoint
from mmcv.runner import save_checkpoint
from mmcv.utils import Config

from mmseg_ext import compat
from mmseg_ext.core import UntrustedCheckpointError, atomic_save, load_checkpoint


def _meta():
    return dict(env_info='cpu', class_hist=np.arange(19, dtype=np.int64),
                mean=np.float32(0.5), dtype=np.dtype('float64'), flag=np.bool_(True),
                config=Config(dict(a=1, b=dict(c=[1, 2]))).pretty_text)


def test_mmcv_checkpoint_with_numpy_meta_round_trips(tmp_path):
    model = torch.nn.Linear(3, 2)
    path = str(tmp_path / 'ckpt.pth')
    save_checkpoint(model, path, meta=_meta())
    other = torch.nn.Linear(3, 2)
    ckpt = mmcv_load_checkpoint(other, path, map_location='cpu')
    assert torch.equal(other.weight, model.weight)
    np.testing.assert_array_equal(ckpt['meta']['class_hist'], np.arange(19))
    assert ckpt['meta']['mean'] == np.float32(0.5)
    assert ckpt['meta']['dtype'] == np.dtype('float64')
    assert ckpt['meta']['flag'] and 'c=[1, 2]' in ckpt['meta']['config']


class Evil:
    """Stands for any object whose unpickling would run code."""

    def __reduce__(self):
        return (print, ('pwned',))


def test_checkpoint_with_pickled_callable_is_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': torch.nn.Linear(3, 2).state_dict(), 'meta': Evil()}, path)
    with pytest.raises(UntrustedCheckpointError, match=r'refusing to load checkpoint .*evil\.pth.*trusted=True'):
        mmcv_load_checkpoint(torch.nn.Linear(3, 2), path)
    with pytest.raises(UntrustedCheckpointError, match='evil.pth'):
        load_checkpoint(torch.nn.Linear(3, 2), path)
    assert isinstance(UntrustedCheckpointError('x'), pickle.UnpicklingError)


def test_trusted_checkpoint_loads_everything(tmp_path, capsys):
    model = torch.nn.Linear(3, 2)
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': Evil()}, path)
    other = torch.nn.Linear(3, 2)
    load_checkpoint(other, path, trusted=True)
    assert torch.equal(other.bias, model.bias)
    assert 'pwned' in capsys.readouterr().out  # the opt-in really unpickles


def test_atomic_save_leaves_no_partial_file(tmp_path):
    path = tmp_path / 'a.pth'
    atomic_save({'x': torch.ones(2)}, str(path))
    assert torch.equal(torch.load(str(path))['x'], torch.ones(2))
    with pytest.raises((pickle.PicklingError, AttributeError), match='pickle'):
        atomic_save({'x': lambda: 0}, str(path))
    assert torch.equal(torch.load(str(path))['x'], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ['a.pth']


def test_scatter_get_stream_accepts_int_gpu_ids():
    import mmcv.parallel._functions as functions
    assert functions._get_stream(-1) is None
    if not torch.cuda.is_available():
        assert functions._get_stream(0) is None  # torch's own code raised AttributeError here


def test_mmdataparallel_forward_on_cpu():
    from mmcv.parallel import MMDataParallel
    model = MMDataParallel(torch.nn.Linear(3, 2))
    out = model(torch.ones(1, 3))
    assert out.shape == (1, 2)
    assert torch.allclose(out, model.module(torch.ones(1, 3)))


def test_numpy_aliases_restored():
    from mmcv.ops import pixel_group  # noqa: F401  (uses np.float)
    assert np.float is float and np.int is int
    assert np.zeros(2, dtype=np.float).dtype == np.float64


def test_persistent_workers_off_without_workers():
    from mmseg.datasets import build_dataloader
    loader = build_dataloader(list(range(4)), samples_per_gpu=2, workers_per_gpu=0,
                              dist=False, shuffle=False)
    assert loader.persistent_workers is False
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3]]


def test_config_pretty_text_with_pinned_yapf(repo_root):
    cfg = Config(dict(model=dict(type='X', depth=[2, 2]), lr=0.1))
    text = cfg.pretty_text
    assert "depth=[2, 2]" in text and 'lr = 0.1' in text


def test_fixes_are_idempotent():
    before = set(compat._APPLIED)
    compat.apply_all()
    assert compat._APPLIED == before == {
        'allow_checkpoint_types', 'fix_scatter_stream', 'restore_numpy_aliases',
        'restore_numpy_in1d', 'fix_putpalette_ndarray', 'fix_persistent_workers'}


def test_load_checkpoint_refuses_another_model_size(tmp_path):
    path = str(tmp_path / 'b1.pth')
    torch.save({'state_dict': torch.nn.Linear(256, 19).state_dict()}, path)
    with pytest.raises(ValueError, match=r'another model size.*\n  weight: checkpoint \(19, 256\), model \(19, 768\)'):
        load_checkpoint(torch.nn.Linear(768, 19), path)


def test_atomic_copy_gives_the_same_bytes(tmp_path):
    from mmseg_ext.core.fileio import atomic_copy
    src = tmp_path / 'iter_4.pth'
    atomic_save({'x': torch.arange(5)}, str(src))
    atomic_copy(str(src), str(tmp_path / 'latest.pth'))
    assert (tmp_path / 'latest.pth').read_bytes() == src.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ['iter_4.pth', 'latest.pth']


def test_numpy_in1d_restored_as_flattened_isin():
    a = np.array([[1, 2], [3, 7]])
    np.testing.assert_array_equal(np.in1d(a, [2, 7]), [False, True, False, True])
    np.testing.assert_array_equal(np.in1d(a, [2, 7], invert=True), [True, False, True, False])


def test_official_cityscapes_evaluator_runs_on_numpy2(tmp_path):
    """cityscapesscripts' evaluatePair, with the instance and pixel-accuracy scores
    that call np.in1d, on one 8x8 image: road (id 7) and one car (id 26)."""
    import cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling as cs_eval
    import cv2
    from PIL import Image
    ids = np.full((8, 8), 7, np.uint8)
    ids[2:5, 2:6] = 26
    inst = ids.astype(np.uint16)
    inst[ids == 26] = 26000  # car instance 0 (16-bit PNG, as Cityscapes ships it)
    gt = str(tmp_path / 'a_000000_000019_gtFine_labelIds.png')
    Image.fromarray(ids).save(gt)
    cv2.imwrite(gt.replace('labelIds', 'instanceIds'), inst)
    pred = ids.copy()
    pred[2, 2:6] = 7  # 4 car pixels predicted as road
    Image.fromarray(pred).save(str(tmp_path / 'a_000000_000019_pred.png'))
    args = cs_eval.args
    args.evalInstLevelScore, args.evalPixelAccuracy = True, True
    args.JSONOutput, args.quiet = False, True
    result = cs_eval.evaluateImgLists([str(tmp_path / 'a_000000_000019_pred.png')], [gt], args)
    road, car = 52 / 56, 8 / 12  # IoU: tp / (tp + fp + fn)
    assert result['classScores']['road'] == pytest.approx(road)
    assert result['classScores']['car'] == pytest.approx(car)
    assert result['averageScoreClasses'] == pytest.approx((road + car) / 2)


def test_putpalette_takes_a_numpy_palette(tmp_path):
    """mmseg's CityscapesDataset.results2img palette (an ndarray) on Pillow >= 12."""
    from PIL import Image
    palette = np.zeros((34, 3), np.uint8)
    palette[7] = (128, 64, 128)
    img = Image.fromarray(np.full((2, 3), 7, np.uint8)).convert('P')
    img.putpalette(palette)
    img.save(tmp_path / 'p.png')
    back = Image.open(tmp_path / 'p.png')
    assert np.asarray(back).tolist() == [[7] * 3] * 2
    assert back.getpalette()[21:24] == [128, 64, 128]
