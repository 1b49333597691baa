"""Per-domain evaluation along an online stream (OnDA / HAMLET protocol).

Every held-out domain set is evaluated before the stream and after each visited
domain; each evaluation is one row of ``results.csv`` with ``<domain>.mIoU``,
``mAcc``, ``aAcc`` (percent), per-class IoU in ``results.json``, and the stream
accuracy of the visit just finished (``stream.mIoU``; see
:class:`~mmseg_ext.core.evaluation.StreamAccuracy`). The per-image areas of each
evaluation (mmseg's ``intersect_and_union`` per image and class: the diagonal and
marginals of the image's confusion matrix) are kept in
``<work_dir>/per_image/eval<NN>_<domain>.npy`` (array ``(images, 4, classes)``,
named in the row as ``<domain>.per_image``), so a report can resample the held-out
images (bootstrap confidence intervals, :mod:`.report`). Works with any model that
answers mmseg's ``forward(return_loss=False)`` (every segmentor and method).
"""
import os.path as osp

import mmcv
import numpy as np
import torch
from mmcv.parallel import collate, is_module_wrapper
from mmcv.runner import HOOKS, Hook

from .results import ResultsTable, atomic_np_save, plot_stream
from .stream_accuracy import areas_to_metrics

__all__ = ['OnlineEvalHook', 'EVAL_DOMAINS']

EVAL_DOMAINS = ('all', 'stream', 'current')


def _metrics(per_image, classes):
    """Percent metrics of an evaluation from its per-image areas (summed)."""
    return areas_to_metrics([torch.as_tensor(a) for a in per_image.sum(0)], classes)


@HOOKS.register_module()
class OnlineEvalHook(Hook):
    """Evaluates every validation domain before the stream and after each domain.

    Args:
        datasets (Sequence[Dataset]): held-out sets, one per domain (``.name``),
            built with the test pipeline.
        eval_domains (str): which sets are evaluated. 'all': every set, before
            the stream and after each visit; 'stream': the sets of the domains
            in ``runner.domain_order`` (a run streaming two domains evaluates
            two), before the stream and after each visit; 'current': every set
            before the stream (the reference of every domain, e.g. clear when
            only adverse conditions are streamed), then only the set of the
            domain just streamed. Default: 'stream'.
        samples_per_gpu (int): test batch size. Default: 1.
        show (bool): write colour-coded predictions (to ``out_dir`` or
            ``<work_dir>/show``). Default: False.
        out_dir (str | None): folder of the prediction images; giving it turns
            them on. Default: None.
        plot (bool): rewrite the mIoU-along-the-stream PNG after each
            evaluation. Default: True.
        plot_name (str): the PNG's file name in the work dir.
            Default: 'miou_stream.png'.
        max_images (int | None): evaluate only the first ``max_images`` images of
            each set (a CPU budget); None evaluates all. Default: None.
    """


    def __init__(self, datasets, eval_domains='stream', samples_per_gpu=1, show=False,
                 out_dir=None, plot=True, plot_name='miou_stream.png', max_images=None):
        if eval_domains not in EVAL_DOMAINS:
            raise ValueError(f'OnlineEvalHook: eval_domains must be one of '
                             f'{EVAL_DOMAINS}, got {eval_domains!r}')
        if max_images is not None and int(max_images) < 1:
            raise ValueError(f'OnlineEvalHook: max_images must be >= 1 or None, got '
                             f'{max_images}')
        if int(samples_per_gpu) < 1:
            raise ValueError(f'OnlineEvalHook: samples_per_gpu must be >= 1, got '
                             f'{samples_per_gpu}')
        self.datasets = {}
        for ds in datasets:
            name = getattr(ds, 'name', None)
            if name is None:
                raise ValueError(f'validation dataset {type(ds).__name__} has no '
                                 f'`name`; every domain set must name its domain')
            if name in self.datasets:
                raise ValueError(f'two validation datasets are named {name!r}')
            self.datasets[name] = ds
        if not self.datasets:
            raise ValueError('OnlineEvalHook needs at least one validation dataset')
        self.eval_domains = eval_domains
        self.samples_per_gpu = int(samples_per_gpu)
        self.show = bool(show)
        self.out_dir = out_dir
        self.plot = bool(plot)
        self.plot_name = plot_name
        self.max_images = None if max_images is None else int(max_images)
        self.count = 0
        self.table = ResultsTable()
        self._resumed = False

    # ----------------------------------------------------------------- state
    def state_dict(self):
        """dict: evaluations done (rows after them are dropped on resume)."""
        return dict(count=self.count)

    def load_state_dict(self, state):
        self.count = int(state['count'])
        self._resumed = True

    # ----------------------------------------------------------------- hooks
    def before_run(self, runner):
        self.table = ResultsTable(runner.work_dir)
        if self._resumed:
            self.table.load(keep=self.count)
            self.table.write()
            return
        self._evaluate(runner, 'init', -1, self._domains(runner))

    def _domains(self, runner):
        """The sets evaluated before the stream and, unless 'current', after
        each visit: those of the domains the stream visits ('stream'), or all."""
        if self.eval_domains != 'stream':
            return list(self.datasets)
        streamed = set(runner.domain_order)
        return [d for d in self.datasets if d in streamed]

    def after_train_epoch(self, runner):
        name = runner.domain_order[runner.epoch]
        if self.eval_domains == 'current':
            domains = [name] if name in self.datasets else []
        else:
            domains = self._domains(runner)
        self._evaluate(runner, name, runner.epoch, domains)

    # ------------------------------------------------------------ evaluation
    def evaluate_dataset(self, model, dataset, image_dir=None):
        """mmseg metrics of ``model`` on ``dataset``, in percent.

        Args:
            model (nn.Module): answers ``forward(return_loss=False)``.
            dataset (CustomDataset): with the test pipeline and ``pre_eval``.
            image_dir (str | None): where to write colour predictions.

        Returns:
            OrderedDict: ``mIoU``, ``mAcc``, ``aAcc``, ``IoU.<class>``.
        """
        return _metrics(self.evaluate_areas(model, dataset, image_dir), dataset.CLASSES)

    def evaluate_areas(self, model, dataset, image_dir=None):
        """Per-image areas of ``model`` on ``dataset`` (the first ``max_images``).

        Args:
            model (nn.Module): answers ``forward(return_loss=False)``.
            dataset (CustomDataset): with the test pipeline and ``pre_eval``.
            image_dir (str | None): where to write colour predictions.

        Returns:
            np.ndarray: float64 ``(images, 4, classes)``: per image, mmseg's
            (intersect, union, predicted, label) pixel counts per class.
        """
        model = model.module if is_module_wrapper(model) else model
        param = next(model.parameters(), None)
        device = param.device if param is not None else torch.device('cpu')
        was_training = model.training
        model.eval()
        per_image = []
        n = len(dataset) if self.max_images is None else min(len(dataset), self.max_images)
        try:
            for start in range(0, n, self.samples_per_gpu):
                indices = list(range(start, min(n, start + self.samples_per_gpu)))
                batch = collate([dataset[i] for i in indices],
                                samples_per_gpu=len(indices))
                imgs = [t.to(device) for t in batch['img']]
                metas = [dc.data[0] for dc in batch['img_metas']]
                with torch.no_grad():
                    result = model(return_loss=False, rescale=True, img=imgs,
                                   img_metas=metas)
                result = [r.cpu().numpy() if isinstance(r, torch.Tensor) else r
                          for r in result]
                areas = dataset.pre_eval(result, indices)
                per_image += [np.stack([np.asarray(x, dtype=np.float64) for x in a])
                              for a in areas]
                if image_dir is not None:
                    self._write_images(dataset, indices, result, image_dir)
        finally:
            model.train(was_training)
        return np.stack(per_image)

    def _write_images(self, dataset, indices, result, image_dir):
        palette = np.asarray(dataset.PALETTE, dtype=np.uint8)
        for i, seg in zip(indices, result):
            colour = palette[np.clip(seg, 0, len(palette) - 1)][..., ::-1]
            mmcv.imwrite(colour, osp.join(image_dir, f'{i:05d}.png'))

    def _evaluate(self, runner, after, visit, domains):
        visit_acc = getattr(runner, 'visit_accuracy', None)
        key = f'{visit}:{after}'
        has_stream = visit_acc is not None and key in visit_acc.keys()
        if not domains and not has_stream:
            return
        row = dict(eval=self.count, after=after, visit=visit,
                   frames=getattr(runner, 'frames_done', runner.iter))
        image_root = None
        if self.show or self.out_dir:
            image_root = self.out_dir or osp.join(runner.work_dir, 'show')
        for d in domains:
            image_dir = (osp.join(image_root, f'{self.count:02d}_{after}', d)
                         if image_root else None)
            dataset = self.datasets[d]
            per_image = self.evaluate_areas(runner.model, dataset, image_dir)
            metrics = _metrics(per_image, dataset.CLASSES)
            for k, v in metrics.items():
                row[f'{d}.{k}'] = v
            if runner.work_dir:
                rel = osp.join('per_image', f'eval{self.count:02d}_{d}.npy')
                atomic_np_save(per_image, osp.join(runner.work_dir, rel))
                row[f'{d}.per_image'] = rel
        if has_stream:
            for k, v in visit_acc.metrics(key).items():
                if not k.startswith('IoU.'):
                    row[f'stream.{k}'] = v
        self.table.append(row)
        self.count += 1
        msg = ', '.join(f'{d}={row[f"{d}.mIoU"]:.2f}' for d in domains)
        if 'stream.mIoU' in row:
            msg += f', stream={row["stream.mIoU"]:.2f}'
        runner.logger.info(f'evaluation {row["eval"]} after {after}: mIoU {msg}')
        for d in domains:
            per_class = ', '.join(f'{k[len(d) + 5:]}={v:.1f}' for k, v in row.items()
                                  if k.startswith(f'{d}.IoU.'))
            runner.logger.info(f'  {d} IoU per class: {per_class}')
        if visit >= 0:  # the logger hooks write it to the text and JSON logs
            for k, v in row.items():
                if isinstance(v, float) and '.IoU.' not in k:
                    runner.log_buffer.output[k] = v
            runner.log_buffer.ready = True
        if self.plot and runner.work_dir:
            plot_stream(self.table.rows, osp.join(runner.work_dir, self.plot_name),
                        title=osp.basename(runner.work_dir.rstrip('/')))
