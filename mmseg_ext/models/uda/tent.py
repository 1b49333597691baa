"""TENT: fully test-time adaptation by entropy minimisation."""
from contextlib import contextmanager, nullcontext

from ..builder import UDA
from ..utils.trainable import NORM_LAYERS, set_trainable
from .uda_decorator import UDADecorator, batch_norms, softmax_entropy

__all__ = ['TENT', 'batch_stats_only', 'NORM_LAYERS']


@contextmanager
def batch_stats_only(module):
    """Inside the block, ``module``'s BatchNorm layers normalise with the
    statistics of the batch they see, in train and eval mode alike, and never
    update their running statistics: TENT's ``configure_model``
    (``track_running_stats=False``, running statistics set to None), undone on
    exit (also on error). Layers frozen by
    :func:`~mmseg_ext.models.utils.freeze.freeze` keep their running
    statistics."""
    layers = [m for m in batch_norms(module) if not getattr(m, 'frozen_eval', False)]
    saved = [(m.track_running_stats, m.running_mean, m.running_var) for m in layers]
    for m in layers:
        m.track_running_stats = False
        m.running_mean = None
        m.running_var = None
    try:
        yield
    finally:
        for m, (track, mean, var) in zip(layers, saved):
            m.track_running_stats = track
            m.running_mean = mean
            m.running_var = var


@UDA.register_module()
class TENT(UDADecorator):
    """Entropy minimisation on the target, updating only norm affine parameters.

    Wang et al., ICLR 2021 (https://arxiv.org/abs/2006.10726), public code
    github.com/DequanWang/tent (``configure_model``, ``forward_and_adapt``): one
    gradient step per target batch on the mean per-pixel prediction entropy;
    every parameter except the weight and bias of the normalisation layers is
    frozen (TENT's ``collect_params`` takes BatchNorm only; a transformer has
    LayerNorms, so LayerNorm/BatchNorm/GroupNorm here); batch-norm layers
    normalise with the batch statistics. No source data.

    As in TENT, the prediction of a frame (:meth:`deployed_probs`, and the
    mmseg test API used by evaluation) also normalises with the statistics of
    the batch being predicted, and no running statistic is tracked. The
    prediction runs in eval mode (no dropout or drop-path; the reference's
    networks have none).

    ``norm_stats`` (:mod:`~mmseg_ext.models.utils.norm_stats`):
    ``student='batch'`` (TENT: batch-norm layers normalise with the target
    batch's statistics during steps; 'running' keeps the running ones),
    ``predict='batch'`` (TENT: predictions normalise
    with the predicted batch's statistics and no running statistic is tracked;
    'running' predicts with the running statistics, which the train-mode
    adaptation forward then updates: online AdaBN added to TENT).
    ``predict='batch'`` needs ``student='batch'`` and ``target_pass=False``.

    Args:
        **kwargs: :class:`UDADecorator` arguments.
    """

    NORM_STATS = dict(UDADecorator.NORM_STATS, predict='batch')
    NORM_STATS_CHOICES = dict(UDADecorator.NORM_STATS_CHOICES, predict=('batch', 'running'))

    def __init__(self, model, **kwargs):
        super().__init__(model, **kwargs)
        if self.norm_stats['predict'] == 'batch' and (
                self.norm_stats['student'] != 'batch' or self.norm_stats['target_pass']):
            raise ValueError("TENT: norm_stats.predict='batch' tracks no running "
                             "statistics; it needs student='batch' and "
                             "target_pass=False")
        set_trainable(self.model, 'norm_affine', key='TENT')
        self.init_ewc()

    def student_stats(self):
        """The context every student forward runs in: :func:`batch_stats_only`
        with ``norm_stats.predict='batch'``, else nothing."""
        return batch_stats_only(self.model) if self.norm_stats['predict'] == 'batch' \
            else nullcontext()

    def adapt(self, data_batch, log_vars, **step_kwargs):
        """One entropy-minimisation step on ``target_img``."""
        with self.student_stats():
            logits = self.get_model().encode_decode(data_batch['target_img'],
                                                    data_batch['target_img_metas'])
        self.backward(softmax_entropy(logits).mean(), 'entropy', log_vars)
        return log_vars

    # ------------------------------------------- predictions: TENT's statistics
    def deployed_probs(self, img, img_metas):
        with self.student_stats():
            return super().deployed_probs(img, img_metas)

    def inference(self, img, img_meta, rescale):
        with self.student_stats():
            return super().inference(img, img_meta, rescale)

    def simple_test(self, img, img_meta, rescale=True):
        with self.student_stats():
            return super().simple_test(img, img_meta, rescale)

    def aug_test(self, imgs, img_metas, rescale=True):
        with self.student_stats():
            return super().aug_test(imgs, img_metas, rescale)
