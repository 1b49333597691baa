"""CoTTA: continual test-time adaptation."""
import torch
from mmseg.ops import resize

from ..builder import UDA
from ..utils.freeze import make_reference_model
from .ema import copy_weights
from .uda_decorator import UDADecorator

__all__ = ['CoTTA', 'scaled_size']


def scaled_size(size, scale):
    """``(h, w)`` scaled and rounded half up, as mmcv's ``rescale_size`` (the
    size mmseg's ``MultiScaleFlipAug`` + ``Resize(keep_ratio=True)`` give an
    image at ratio ``scale``)."""
    return tuple(int(s * scale + 0.5) for s in size)


@UDA.register_module()
class CoTTA(UDADecorator):
    """Continual test-time adaptation (Wang et al., CVPR 2022,
    https://arxiv.org/abs/2203.13591), segmentation version (the Cityscapes ->
    ACDC code of github.com/qinenergy/cotta, ``single_gpu_cotta``).

    Per target batch: the EMA teacher predicts at several scales, each also
    flipped, and the softmax outputs are averaged at image size; where the
    frozen source (anchor) model's scale-1 confidence (max softmax) exceeds
    ``anchor_threshold`` the pseudo-label is the teacher's scale-1 unflipped
    prediction, elsewhere the augmentation average. The student trains on it
    with cross-entropy; after the optimizer step the teacher takes an EMA step
    of the parameters and each trainable student weight is restored to its
    source value with probability ``restore_probability``. The deployed
    prediction (stream accuracy, evaluation) is the pseudo-label rule itself.

    As in the reference, by default the student adapts in eval mode (source
    BatchNorm running statistics, no dropout or drop-path) and the teacher keeps
    the source BatchNorm statistics (parameters only are averaged), so no
    normalisation statistic ever leaves the source. Departures on purpose: the
    teacher's scaled views resize the normalised frame bilinearly (the reference
    resizes the raw image in the data pipeline, so only the uint8 rounding
    differs) and every trainable parameter can be restored (the reference
    restores parameters named ``weight``/``bias``, which are all the parameters
    of its SegFormer; mmseg's ``MixVisionTransformer`` also has
    ``in_proj_weight``/``in_proj_bias``).

    Args:
        alpha (float): teacher EMA momentum (no warm-up). Default: 0.999.
        restore_probability (float): stochastic-restore probability p.
            Default: 0.01.
        anchor_threshold (float): anchor confidence threshold in (0, 1); the
            single view is used where the confidence is strictly above it.
            Default: 0.69.
        aug_scales (Sequence[float]): teacher input scales.
            Default: (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0).
        aug_flip (bool): add the horizontally flipped input at each scale.
            Default: True.
        **kwargs: :class:`UDADecorator` arguments. Its ``norm_stats``
            (:mod:`~mmseg_ext.models.utils.norm_stats`): ``student='running'`` (reference: the whole
            student adapts in eval mode) or 'batch' (train mode: dropout and
            drop-path of the model config active, BatchNorm normalising with the
            frame's statistics and updating its running ones);
            ``teacher='source'`` (reference: the EMA averages parameters only)
            or 'student_running' (the student's running statistics copied in at
            every EMA step; with ``student='batch'`` this adds online AdaBN to
            the deployed prediction). ``target_pass=True`` needs
            ``student='batch'``.
    """

    NORM_STATS = dict(UDADecorator.NORM_STATS, student='running', teacher='source')
    NORM_STATS_CHOICES = dict(UDADecorator.NORM_STATS_CHOICES,
                              teacher=('source', 'student_running'))

    def __init__(self,
                 model,
                 alpha=0.999,
                 restore_probability=0.01,
                 anchor_threshold=0.69,
                 aug_scales=(0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0),
                 aug_flip=True,
                 **kwargs):
        super().__init__(model, **kwargs)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f'CoTTA: alpha must be in [0, 1], got {alpha}')
        if not 0.0 <= restore_probability <= 1.0:
            raise ValueError(f'CoTTA: restore_probability must be in [0, 1], '
                             f'got {restore_probability}')
        if not 0.0 < anchor_threshold < 1.0:
            raise ValueError(f'CoTTA: anchor_threshold must be in (0, 1), '
                             f'got {anchor_threshold}')
        if not aug_scales or any(s <= 0 for s in aug_scales):
            raise ValueError(f'CoTTA: aug_scales must be a non-empty list of '
                             f'positive scales, got {aug_scales!r}')
        self.alpha = alpha
        self.restore_probability = restore_probability
        self.anchor_threshold = anchor_threshold
        self.aug_scales = tuple(float(s) for s in aug_scales)
        self.aug_flip = aug_flip
        self.ema_model = make_reference_model(self.model, 'mirror')
        self.anchor_model = make_reference_model(self.model, 'mirror')
        self._restore_cache = None  # (parameter ids, groups) of restore()

    def frozen_models(self):
        return [self.ema_model, self.anchor_model]

    def train(self, mode=True):
        """The student stays in eval mode unless ``norm_stats.student='batch'``."""
        super().train(mode)
        if mode and self.norm_stats['student'] == 'running':
            self.get_model().eval()
        return self

    def _apply(self, fn, *args, **kwargs):
        self._restore_cache = None  # new parameter tensors after a move
        return super()._apply(fn, *args, **kwargs)

    def init_snapshots(self):
        """Teacher and anchor start as copies of the source student."""
        copy_weights(self.ema_model, self.model)
        copy_weights(self.anchor_model, self.model)

    @torch.no_grad()
    def teacher_views(self, img, img_metas):
        """Teacher softmax over the augmentations, at image size.

        Each scale runs as one forward of the frame and its flip together
        (batch ``2N``; the teacher is in eval mode, so the samples do not
        interact). Views are summed in the reference's order (scale, then
        flip), softmax after resizing, flipped back after the softmax.

        Returns:
            tuple[Tensor]: the mean over ``aug_scales`` x flips and the
            scale-1 unflipped view (computed apart when 1 is not a scale),
            each ``[N, C, H, W]``.
        """
        size = img.shape[-2:]
        n = img.shape[0]
        metas = list(img_metas) * (2 if self.aug_flip else 1)
        total, count, plain = 0.0, 0, None
        for scale in self.aug_scales:
            x = img if scale == 1.0 else resize(img, size=scaled_size(size, scale),
                                                mode='bilinear', align_corners=False)
            if self.aug_flip:
                x = torch.cat([x, x.flip(-1)])
            logits = resize(self.ema_model.encode_decode(x, metas), size=size,
                            mode='bilinear', align_corners=self.align_corners)
            probs = torch.softmax(logits, dim=1)
            if scale == 1.0 and plain is None:
                plain = probs[:n]
            total = total + probs[:n]
            count += 1
            if self.aug_flip:
                total = total + probs[n:].flip(-1)
                count += 1
        if plain is None:
            plain = torch.softmax(self.ema_model.encode_decode(img, img_metas), dim=1)
        return total / count, plain

    def teacher_aug_probs(self, img, img_metas):
        """Teacher softmax averaged over ``aug_scales`` x flips, at image size."""
        return self.teacher_views(img, img_metas)[0]

    @torch.no_grad()
    def deployed_probs(self, img, img_metas):
        """CoTTA's prediction: the teacher's scale-1 view where the anchor is
        confident, else the teacher's augmentation average."""
        if self.steps_done == 0:
            self.init_snapshots()
        anchor_conf = torch.softmax(self.anchor_model.encode_decode(img, img_metas),
                                    dim=1).max(1, keepdim=True)[0]
        averaged, plain = self.teacher_views(img, img_metas)
        return torch.where(anchor_conf > self.anchor_threshold, plain, averaged)

    def adapt(self, data_batch, log_vars, train_from_module=None, inference=None,
              **step_kwargs):
        """Cross-entropy of the student on the teacher's pseudo-labels.

        The pseudo-label is the deployed prediction: ``inference['probs']`` when
        the runner passes the frame's ``online_inference`` output (the costly
        multi-scale teacher pass then runs once per frame), else computed here.
        """
        target_img = data_batch['target_img']
        target_img_metas = data_batch['target_img_metas']
        if inference is not None and 'probs' in inference:
            probs = inference['probs']
        else:
            probs = self.deployed_probs(target_img, target_img_metas)
        pseudo_label = probs.argmax(1, keepdim=True)
        losses = self.seg_losses(self.get_model(), target_img, target_img_metas,
                                 pseudo_label, train_from_module=train_from_module)
        self.parse_and_backward(losses, 'tgt', log_vars)
        return log_vars

    @torch.no_grad()
    def after_step(self):
        """Teacher EMA step, then stochastic restore of the student."""
        self.update_teacher(self.ema_model, self.alpha,
                            buffers=self.norm_stats['teacher'] == 'student_running')
        if self.restore_probability > 0:
            self.restore()

    def _restore_groups(self):
        """Trainable student parameters with their anchor copies, grouped by
        (device, dtype), each group with one flat buffer and its views shaped
        like the parameters; made again when the trainable set changes."""
        pairs = [(p, a) for p, a in zip(self.model.parameters(),
                                        self.anchor_model.parameters())
                 if p.requires_grad]
        ids = tuple(id(p) for p, _ in pairs)
        if self._restore_cache is not None and self._restore_cache[0] == ids:
            return self._restore_cache[1]
        by_kind = {}
        for p, a in pairs:
            by_kind.setdefault((p.device, p.dtype), []).append((p, a))
        groups = []
        for (device, dtype), group in by_kind.items():
            params = [p for p, _ in group]
            flat = torch.empty(sum(p.numel() for p in params), device=device,
                               dtype=dtype)
            views = [v.view_as(p) for v, p in
                     zip(flat.split([p.numel() for p in params]), params)]
            groups.append((params, [a for _, a in group], flat, views))
        self._restore_cache = (ids, groups)
        return groups

    @torch.no_grad()
    def restore(self):
        """Stochastic restore: each trainable student weight takes its anchor
        (source) value with probability ``restore_probability``.

        The reference draws ``torch.rand(p.shape) < p`` per parameter and sets
        ``anchor * mask + param * (1 - mask)``. Here one uniform draw fills a
        flat buffer of all the parameters (the same numbers in the same order
        on the CPU generator, so results are bit-identical there; a CUDA
        generator draws other numbers of the same distribution), and the
        update is ``param * keep + anchor * (1 - keep)`` as two multi-tensor
        ops.
        """
        for params, anchors, flat, views in self._restore_groups():
            flat.uniform_()
            flat.ge_(self.restore_probability)  # 1 keeps the adapted value
            torch._foreach_mul_(params, views)
            flat.neg_().add_(1.0)  # 1 restores the source value
            torch._foreach_addcmul_(params, anchors, views)

    # -------------------------------------------- mmseg test API: deployed rule
    def inference(self, img, img_meta, rescale):
        """Deployed softmax, resized to the original shape and unflipped."""
        probs = self.deployed_probs(img, img_meta)
        if rescale:
            probs = resize(probs, size=img_meta[0]['ori_shape'][:2], mode='bilinear',
                           align_corners=self.align_corners, warning=False)
        if img_meta[0].get('flip', False):
            dims = (3, ) if img_meta[0].get('flip_direction',
                                            'horizontal') == 'horizontal' else (2, )
            probs = probs.flip(dims=dims)
        return probs

    def simple_test(self, img, img_meta, rescale=True):
        """CoTTA's deployed prediction (mmseg API, used by the eval hook)."""
        pred = self.inference(img, img_meta, rescale).argmax(1)
        return list(pred.cpu().numpy())

    def aug_test(self, imgs, img_metas, rescale=True):
        """Deployed prediction averaged over the given augmentations."""
        probs = sum(self.inference(i, m, rescale) for i, m in zip(imgs, img_metas))
        return list(probs.argmax(1).cpu().numpy())
