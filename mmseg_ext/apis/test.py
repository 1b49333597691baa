"""Testing a checkpoint on a dataset config, as mmseg 0.30's ``tools/test.py`` does.

:func:`evaluate_checkpoint` builds ``cfg.data.test`` (one dataset or a list) and the
segmentor of ``cfg.model``, loads a checkpoint (a source model, or an online run's
checkpoint, whose student is read from its ``model.*`` keys), runs single-process
inference, and then, per dataset:

* evaluates mmseg's metrics (``'mIoU'``, ``'mDice'``, ``'mFscore'``) on the
  pre-evaluated results, and ``'cityscapes'`` with the official cityscapesscripts
  evaluator on the written label-id PNGs;
* writes, when ``format_dir`` is given (``--format-only`` or
  ``--eval-options imgfile_prefix=DIR``), the predictions in the official Cityscapes
  format: label-id PNGs named after the images (``<city>_<seq>_<frame>_leftImg8bit.png``),
  through mmseg's ``CityscapesDataset.format_results`` (trainId -> labelId by
  cityscapesscripts' label table).
"""
import os.path as osp
import tempfile

import mmcv
import torch
from mmseg.datasets import build_dataloader, build_dataset
from mmseg.models import build_segmentor
from mmseg.utils import build_dp

from ..core.checkpoint import load_checkpoint

__all__ = ['evaluate_checkpoint', 'MMSEG_METRICS']

#: Metrics of mmseg's ``CustomDataset.evaluate``; 'cityscapes' is the official one.
MMSEG_METRICS = ('mIoU', 'mDice', 'mFscore')
# An online run's checkpoint holds the method: the student under ``model.``.
_REVISE_KEYS = ((r'^module\.', ''), (r'^model\.', ''))


def _datasets(cfg):
    test = cfg.data.get('test')
    if test is None:
        raise KeyError('the config has no data.test to test on')
    entries = test if isinstance(test, (list, tuple)) else [test]
    return [build_dataset(dict(entry, test_mode=True)) for entry in entries]


def _check_metrics(metrics, datasets):
    unknown = [m for m in metrics if m not in MMSEG_METRICS + ('cityscapes',)]
    if unknown:
        raise ValueError(f'unknown metric(s) {unknown}; choose from '
                         f'{list(MMSEG_METRICS) + ["cityscapes"]}')
    if 'cityscapes' in metrics:
        wrong = [type(d).__name__ for d in datasets if not hasattr(d, '_evaluate_cityscapes')]
        if wrong:
            raise ValueError(f"metric 'cityscapes' needs Cityscapes-format datasets "
                             f"(CityscapesDataset subclasses), got {wrong}")


def _infer(model, dataset, workers, format_dir):
    """Pre-evaluated results of every image; label-id PNGs into ``format_dir``."""
    loader = build_dataloader(dataset, samples_per_gpu=1, workers_per_gpu=workers,
                              dist=False, shuffle=False)
    results, bar = [], mmcv.ProgressBar(len(dataset))
    for index, data in zip(loader.batch_sampler, loader):
        with torch.no_grad():
            pred = model(return_loss=False, rescale=True, **data)
        if format_dir is not None:
            dataset.format_results(pred, imgfile_prefix=format_dir, to_label_id=True,
                                   indices=index)
        results.extend(dataset.pre_eval(pred, indices=index))
        bar.update(len(index))
    print()
    return results


def _official(dataset, format_dir, logger):
    """cityscapesscripts' pixel-level evaluation of the PNGs in ``format_dir``."""
    import cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling as cs_eval
    cs_eval.args.predictionWalk = None  # cached per process: forget the previous folder
    return dataset.evaluate(None, metric='cityscapes', logger=logger,
                            imgfile_prefix=format_dir)


def evaluate_checkpoint(cfg, checkpoint, metrics=('mIoU',), format_dir=None, device=None,
                    trusted=False, logger=None):
    """Tests ``checkpoint`` on ``cfg.data.test``.

    Args:
        cfg (mmcv.Config): Any dataset config with ``model`` and ``data.test``.
        checkpoint (str): The weights.
        metrics (Sequence[str]): Of :data:`MMSEG_METRICS` and ``'cityscapes'``;
            empty to only write predictions. Default: ('mIoU',).
        format_dir (str | None): Write official Cityscapes-format label-id PNGs here
            (one sub-folder per dataset when there are several). Default: None.
        device (str | None): 'cuda' or 'cpu'; CUDA when available if None.
        trusted (bool): Unpickle everything in ``checkpoint``
            (see :func:`mmseg_ext.core.load_checkpoint`). Default: False.
        logger (logging.Logger | None): For mmseg's result tables. Default: None.

    Returns:
        dict[str, dict]: metrics per dataset ``name`` (or index), mmseg's keys
        (``mIoU`` as a fraction) and the official ones (``averageScoreClasses``...).
    """
    metrics = list(metrics)
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint} does not exist')
    datasets = _datasets(cfg)
    _check_metrics(metrics, datasets)
    cfg.model.pretrained = None
    cfg.model.train_cfg = None
    model = build_segmentor(cfg.model, test_cfg=cfg.get('test_cfg'))
    load_checkpoint(model, checkpoint, trusted=trusted, revise_keys=_REVISE_KEYS)
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model = build_dp(model.to(device), device)
    model.eval()
    out, tmp = {}, None
    try:
        for i, dataset in enumerate(datasets):
            name = getattr(dataset, 'name', str(i))
            folder = format_dir
            if folder is None and 'cityscapes' in metrics:
                tmp = tmp or tempfile.mkdtemp(prefix='cs-eval-')
                folder = tmp
            if folder is not None and len(datasets) > 1:
                folder = osp.join(folder, name)
            results = _infer(model, dataset, cfg.data.get('workers_per_gpu', 0), folder)
            scores = {}
            own = [m for m in metrics if m != 'cityscapes']
            if own:
                scores.update(dataset.evaluate(results, metric=own, logger=logger))
            if 'cityscapes' in metrics:
                scores.update(_official(dataset, folder, logger))
            out[name] = scores
    finally:
        if tmp is not None:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
    return out
