"""DACS with DAFormer's refinements, online (HAMLET's setting)."""
from contextlib import nullcontext

import torch

from ..builder import UDA
from ..utils.dacs_transforms import (JITTER_IMPLS, MIX_CLASS_CANDIDATES,
                                     downscale_label_ratio, draw_augmentation,
                                     get_class_masks, get_mean_std, get_pseudo_label,
                                     one_mix, pseudo_label_crop_rows, strong_transform)
from ..utils.freeze import REFERENCE_MODES, make_reference_model
from .ema import copy_weights, ema_alpha
from .uda_decorator import (UDADecorator, batch_norm_stats, frozen_norm_stats,
                            softmax_entropy)

__all__ = ['DACS', 'TEACHER_NORMS', 'check_mix_sizes']

#: How the EMA teacher's BatchNorm layers normalise: ``'batch'`` with the target
#: batch's own statistics, its buffers never averaged (DAFormer, HAMLET: the
#: teacher runs in train mode); ``'student_running'`` with the student's running
#: statistics, copied into the teacher at every EMA update (eval mode).
TEACHER_NORMS = ('batch', 'student_running')


def masked_feat_dist(f1, f2, mask=None):
    """Mean over pixels of ``||f1 - f2||_2`` (channels), on ``mask`` if given.

    An empty mask gives 0 (keeping the graph), not NaN.
    """
    dist = torch.norm(f1 - f2, dim=1, p=2)
    if mask is not None:
        dist = dist[mask.squeeze(1)]
    if dist.numel() == 0:
        return f1.sum() * 0.0
    return dist.mean()


def check_mix_sizes(source_img, target_img):
    """Refuses source and target batches of different image sizes.

    ClassMix pastes source pixels onto the target frame, so both must have the
    same size. HAMLET's and DAFormer's public code never mix unequal sizes: their
    target pipeline resizes and random-crops each target frame to the source crop
    size (``RandomCrop(crop_size)``), as ``stream_pipeline`` in
    ``configs/_base_/datasets/cityscapes.py`` does here. Real data has unequal
    sizes (512x512 source crops, 512x1024 frames), so this names that fix instead
    of failing inside ``torch.stack``.

    Raises:
        ValueError: the sizes differ.
    """
    src, tgt = tuple(source_img.shape[-2:]), tuple(target_img.shape[-2:])
    if src != tgt:
        raise ValueError(f'DACS mixes source and target pixel by pixel, but the source '
                         f'images are {src[0]}x{src[1]} and the target frames '
                         f'{tgt[0]}x{tgt[1]}; crop the stream frames to the source crop '
                         f'size in their pipeline (RandomCrop(crop_size), as HAMLET and '
                         f'DAFormer do: stream_pipeline in configs/_base_/datasets/'
                         f'cityscapes.py)')


@UDA.register_module()
class DACS(UDADecorator):
    """Domain adaptation via cross-domain mixed sampling.

    Tranheden et al., WACV 2021 (https://arxiv.org/abs/2007.08702) with
    DAFormer's refinements (Hoyer et al., CVPR 2022,
    https://arxiv.org/abs/2111.14887): EMA teacher with momentum warm-up,
    confidence-weighted pseudo-labels, pseudo-label crop, thing-class feature
    distance to a frozen reference model; run online as in HAMLET (Colomer et
    al., ICCV 2023), where the reference is the source model. With
    ``entropy_lambda > 0`` it is DACS+TENT (an entropy term on the target).

    One step, in phases: update EMA teacher -> train on source -> feature
    distance to the reference -> pseudo-label the target with the teacher ->
    ClassMix -> train on the mixed image (-> target feature distance, entropy).

    The defaults reproduce DAFormer's ``mmseg/models/uda/dacs.py`` and
    ``mmseg/models/utils/dacs_transforms.py`` (HAMLET's are the same): its random
    draws in its order, kornia 0.5.8's colour jitter, its blur kernel, its ClassMix
    class choice and count, a teacher whose BatchNorm uses the target batch's
    statistics. ``norm_stats.teacher``, ``jitter_impl`` and ``mix_class_candidates``
    select the project's variants (``configs/_base_/uda/dacs.py`` says why).

    Args:
        alpha (float): EMA teacher momentum, warmed up as
            ``min(1 - 1/(t+1), alpha)``. Default: 0.999.
        pseudo_threshold (float): confidence threshold tau in (0, 1); the
            pseudo-label weight is the fraction of pixels above it.
            Default: 0.968.
        pseudo_weight_ignore_top (int): rows at the top with zero pseudo-label
            weight, at ``pseudo_weight_ref_height``. Default: 0.
        pseudo_weight_ignore_bottom (int): same at the bottom. Default: 0.
        pseudo_weight_ref_height (int): image height the two row counts are
            given at; they scale to the input height. Default: 512.
        imnet_feature_dist_lambda (float): weight of the source feature distance;
            0 builds no reference model at all. Default: 0.0.
        imnet_feature_dist_classes (list[int] | None): classes whose pixels enter
            the feature distance (None: all). Default: None.
        imnet_feature_dist_scale_min_ratio (float): majority share for a
            feature cell to count as a class (DAFormer). Default: 0.75.
        target_feature_dist_lambda (float): weight of the student-vs-reference
            feature distance on the target image (no class mask). Default: 0.0.
        reference_mode (str): reference model ``'mirror'`` (the student's
            adapters) or ``'pretrained'`` (adapters off). Default: 'mirror'.
        teacher_mode (str): same choice for the EMA teacher; a 'pretrained'
            teacher stays the source model (no EMA update). Default: 'mirror'.
        mix_class_ratio (float): fraction r of the candidate classes ClassMix
            pastes (``min(int((n + n % 2) r), n)``); the step kwarg ``mix_ratio``
            overrides it. Default: 0.5.
        mix_class_candidates (str): which classes ClassMix chooses from, one of
            :data:`~mmseg_ext.models.utils.dacs_transforms.MIX_CLASS_CANDIDATES`.
            Default: 'batch'.
        blur (bool): Gaussian blur in the strong augmentation (drawn with
            probability 0.5 per step). Default: True.
        color_jitter_strength (float): colour jitter s. Default: 0.2.
        color_jitter_probability (float): colour jitter p: jitter when a uniform
            draw exceeds it (once per step). Default: 0.2.
        jitter_impl (str): colour-jitter formulas, one of
            :data:`~mmseg_ext.models.utils.dacs_transforms.JITTER_IMPLS`.
            Default: 'kornia058'.
        target_only (bool): train on the (augmented) target image with its
            pseudo-labels instead of the mixed image. Default: False.
        clean_loss_weight (float): weight of the source loss. Default: 1.0.
        mix_loss_weight (float): weight of the mixed/target loss. Default: 1.0.
        oracle (bool): use the target labels (``target_gt_semantic_seg``)
            instead of pseudo-labels (upper bound). Default: False.
        entropy_lambda (float): weight of the target entropy term (DACS+TENT).
            Default: 0.0.
        **kwargs: :class:`UDADecorator` arguments. Its ``norm_stats``
            (:mod:`~mmseg_ext.models.utils.norm_stats`): ``teacher``, one of :data:`TEACHER_NORMS`
            (default 'batch'), and ``source_pass``: the supervised source pass
            folds its batch statistics into the student's running statistics
            (default True); False leaves them to the mixed and target passes,
            so that the statistics evaluation and inference use describe the
            stream, not the replayed source (with ``target_pass=True``: online
            AdaBN inside DACS).
    """

    needs_source = True
    NORM_STATS = dict(UDADecorator.NORM_STATS, source_pass=True, teacher='batch')
    NORM_STATS_CHOICES = dict(UDADecorator.NORM_STATS_CHOICES, source_pass=(True, False),
                              teacher=TEACHER_NORMS)

    def __init__(self,
                 model,
                 alpha=0.999,
                 pseudo_threshold=0.968,
                 pseudo_weight_ignore_top=0,
                 pseudo_weight_ignore_bottom=0,
                 pseudo_weight_ref_height=512,
                 imnet_feature_dist_lambda=0.0,
                 imnet_feature_dist_classes=None,
                 imnet_feature_dist_scale_min_ratio=0.75,
                 target_feature_dist_lambda=0.0,
                 reference_mode='mirror',
                 teacher_mode='mirror',
                 mix_class_ratio=0.5,
                 mix_class_candidates='batch',
                 blur=True,
                 color_jitter_strength=0.2,
                 color_jitter_probability=0.2,
                 jitter_impl='kornia058',
                 target_only=False,
                 clean_loss_weight=1.0,
                 mix_loss_weight=1.0,
                 oracle=False,
                 entropy_lambda=0.0,
                 **kwargs):
        super().__init__(model, **kwargs)
        name = type(self).__name__
        if not 0.0 < pseudo_threshold < 1.0:
            raise ValueError(f'{name}: pseudo_threshold must be in (0, 1), '
                             f'got {pseudo_threshold}')
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f'{name}: alpha must be in [0, 1], got {alpha}')
        if not 0.0 <= mix_class_ratio <= 1.0:
            raise ValueError(f'{name}: mix_class_ratio must be in [0, 1], '
                             f'got {mix_class_ratio}')
        if not 0.0 < imnet_feature_dist_scale_min_ratio <= 1.0:
            raise ValueError(f'{name}: imnet_feature_dist_scale_min_ratio must be '
                             f'in (0, 1], got {imnet_feature_dist_scale_min_ratio}')
        for key, val in (('imnet_feature_dist_lambda', imnet_feature_dist_lambda),
                         ('target_feature_dist_lambda', target_feature_dist_lambda),
                         ('clean_loss_weight', clean_loss_weight),
                         ('mix_loss_weight', mix_loss_weight),
                         ('entropy_lambda', entropy_lambda),
                         ('pseudo_weight_ignore_top', pseudo_weight_ignore_top),
                         ('pseudo_weight_ignore_bottom', pseudo_weight_ignore_bottom),
                         ('color_jitter_strength', color_jitter_strength)):
            if val < 0:
                raise ValueError(f'{name}: {key} must be >= 0, got {val}')
        if pseudo_weight_ref_height <= 0:
            raise ValueError(f'{name}: pseudo_weight_ref_height must be > 0, '
                             f'got {pseudo_weight_ref_height}')
        for key, value, allowed in (
                ('reference_mode', reference_mode, REFERENCE_MODES),
                ('teacher_mode', teacher_mode, REFERENCE_MODES),
                ('mix_class_candidates', mix_class_candidates, MIX_CLASS_CANDIDATES),
                ('jitter_impl', jitter_impl, JITTER_IMPLS)):
            if value not in allowed:
                raise ValueError(f'{name}: {key} must be one of {allowed}, '
                                 f'got {value!r}')
        if imnet_feature_dist_classes is not None:
            bad = [c for c in imnet_feature_dist_classes
                   if not isinstance(c, int) or not 0 <= c < self.num_classes]
            if bad:
                raise ValueError(f'{name}: imnet_feature_dist_classes {bad} are not '
                                 f'classes of a {self.num_classes}-class model')
        self.alpha = alpha
        self.pseudo_threshold = pseudo_threshold
        self.psweight_ignore = (pseudo_weight_ignore_top, pseudo_weight_ignore_bottom)
        self.psweight_ref_height = pseudo_weight_ref_height
        self.fdist_lambda = imnet_feature_dist_lambda
        self.fdist_classes = imnet_feature_dist_classes
        self.fdist_scale_min_ratio = imnet_feature_dist_scale_min_ratio
        self.tgt_fdist_lambda = target_feature_dist_lambda
        self.mix_class_ratio = mix_class_ratio
        self.mix_class_candidates = mix_class_candidates
        self.blur = blur
        self.color_jitter_s = color_jitter_strength
        self.color_jitter_p = color_jitter_probability
        self.jitter_impl = jitter_impl
        self.target_only = target_only
        self.clean_loss_weight = clean_loss_weight
        self.mix_loss_weight = mix_loss_weight
        self.oracle = oracle
        self.entropy_lambda = entropy_lambda

        # A 'pretrained' teacher is the fixed source model: it is never EMA-updated.
        self.teacher_mode = teacher_mode
        self.ema_model = None if oracle else make_reference_model(self.model,
                                                                   teacher_mode)
        if self.fdist_lambda > 0 or self.tgt_fdist_lambda > 0:
            self.ref_model = make_reference_model(self.model, reference_mode)
        else:
            self.ref_model = None

    def frozen_models(self):
        return [m for m in (self.ema_model, self.ref_model) if m is not None]

    def init_snapshots(self):
        """Teacher and reference start as copies of the source student."""
        for m in self.frozen_models():
            copy_weights(m, self.model)

    def check_batch(self, data_batch):
        super().check_batch(data_batch)
        check_mix_sizes(data_batch['img'], data_batch['target_img'])
        if self.oracle and data_batch.get('target_gt_semantic_seg') is None:
            raise KeyError(f'{type(self).__name__}: oracle=True needs target labels '
                           f'in the data batch (target_gt_semantic_seg), '
                           f'it has {sorted(data_batch)}')

    # ------------------------------------------------------------ phases
    def adapt(self, data_batch, log_vars, mix_ratio=None, train_from_module=None,
              **step_kwargs):
        """One DACS step, phase by phase (backward after each loss term).

        Args:
            data_batch (dict): source and target keys (see :meth:`train_step`).
            log_vars (dict): filled with the loss terms.
            mix_ratio (float | None): ClassMix class fraction of this step;
                None uses ``mix_class_ratio``. Default: None.
            train_from_module (int | None): modular training. Default: None.
        """
        img, img_metas = data_batch['img'], data_batch['img_metas']
        gt = data_batch['gt_semantic_seg']
        target_img = data_batch['target_img']
        target_img_metas = data_batch['target_img_metas']
        model = self.get_model()
        step = self.steps_done

        # Update the EMA teacher (initialised as a copy at step 0).
        if self.ema_model is not None and step > 0 and self.teacher_mode == 'mirror':
            self.update_teacher(self.ema_model, ema_alpha(step, self.alpha),
                                buffers=self.norm_stats['teacher'] == 'student_running')

        # Draw the step's jitter and blur decisions (DAFormer: at the step's start).
        augment = draw_augmentation(self.color_jitter_p, self.blur)

        # Train on source images.
        with_fdist = self.fdist_lambda > 0
        src_feat = None
        if self.clean_loss_weight > 0 or with_fdist:
            with nullcontext() if self.norm_stats['source_pass'] else frozen_norm_stats(model):
                losses = self.seg_losses(model, img, img_metas, gt,
                                         return_feat=with_fdist,
                                         train_from_module=train_from_module)
            extra = self.parse_and_backward(losses, 'src', log_vars,
                                            weight=self.clean_loss_weight,
                                            retain_graph=with_fdist)
            src_feat = extra.get('features')

        # Feature distance to the frozen reference (thing classes).
        if with_fdist:
            self.backward(self.fdist_lambda * self.feat_dist(img, gt, src_feat),
                          'fdist', log_vars)

        # Pseudo-label the target with the teacher (or take its labels: oracle).
        pseudo_label, pseudo_weight = self.pseudo_label(data_batch)
        log_vars['pseudo_weight'] = float(pseudo_weight.mean())

        # ClassMix (or the target alone) with colour jitter and blur.
        mixed_img, mixed_lbl, mixed_weight = self.mix(
            img, img_metas, gt, target_img, pseudo_label, pseudo_weight,
            self.mix_class_ratio if mix_ratio is None else mix_ratio, augment)

        # Train on the mixed images.
        if self.mix_loss_weight > 0:
            losses = self.seg_losses(model, mixed_img, img_metas, mixed_lbl,
                                     seg_weight=mixed_weight,
                                     train_from_module=train_from_module)
            self.parse_and_backward(losses, 'mix', log_vars, weight=self.mix_loss_weight)

        # Target feature distance and entropy (DACS+TENT).
        if self.tgt_fdist_lambda > 0:
            with torch.no_grad():
                ref_feat = self.ref_model.extract_feat(target_img)[-1]
            feat = model.extract_feat(target_img)[-1]
            self.backward(self.tgt_fdist_lambda * masked_feat_dist(feat, ref_feat),
                          'tgt_fdist', log_vars)
        if self.entropy_lambda > 0:
            logits = model.encode_decode(target_img, target_img_metas)
            self.backward(self.entropy_lambda * softmax_entropy(logits).mean(),
                          'entropy', log_vars)
        return log_vars

    def feat_dist(self, img, gt, feat):
        """Distance of the student's last features to the reference's.

        On the cells whose (majority) label is one of
        ``imnet_feature_dist_classes``, or everywhere if that is None.
        """
        with torch.no_grad():
            ref_feat = self.ref_model.extract_feat(img)[-1].detach()
        feat = feat[-1]
        if self.fdist_classes is None:
            return masked_feat_dist(feat, ref_feat)
        scale = gt.shape[-1] // feat.shape[-1]
        gt_small = downscale_label_ratio(gt, scale, self.fdist_scale_min_ratio,
                                         self.num_classes)
        classes = torch.tensor(self.fdist_classes, device=gt.device)
        mask = (gt_small[..., None] == classes).any(-1)
        return masked_feat_dist(feat, ref_feat, mask)

    @torch.no_grad()
    def pseudo_label(self, data_batch):
        """Target labels ``[N, H, W]`` and pixel weights ``[N, H, W]``."""
        target_img = data_batch['target_img']
        if self.oracle:
            label = data_batch['target_gt_semantic_seg'].squeeze(1).long()
            return label, torch.ones(label.shape, device=label.device)
        logits = self.teacher_logits(target_img, data_batch['target_img_metas'])
        label, weight = get_pseudo_label(logits, self.pseudo_threshold)
        top, bottom = pseudo_label_crop_rows(target_img.shape[-2], *self.psweight_ignore,
                                             self.psweight_ref_height)
        if top > 0:
            weight[:, :top, :] = 0
        if bottom > 0:
            weight[:, -bottom:, :] = 0
        return label, weight

    @torch.no_grad()
    def teacher_logits(self, img, img_metas):
        """The EMA teacher's logits at image size, its BatchNorm layers normalising
        as ``norm_stats.teacher`` says (``'batch'``: with the batch's own statistics)."""
        with batch_norm_stats(self.ema_model) if self.norm_stats['teacher'] == 'batch' \
                else nullcontext():
            return self.ema_model.encode_decode(img, img_metas)

    def mix(self, img, img_metas, gt, target_img, pseudo_label, pseudo_weight,
            ratio, augment=None):
        """ClassMix of each source/target pair (the target alone if ``target_only``).

        Args:
            augment (tuple[bool, bool] | None): this step's colour-jitter and blur
                decisions; None draws them now (:func:`draw_augmentation`).
                Default: None.

        Returns:
            tuple: mixed images ``[N, 3, H, W]``, labels ``[N, 1, H, W]`` and pixel
            weights ``[N, H, W]`` (1 on pasted source pixels).
        """
        if augment is None:
            augment = draw_augmentation(self.color_jitter_p, self.blur)
        jitter, blur = augment
        mean, std = get_mean_std(img_metas, img.device)
        if self.target_only:
            masks = [torch.zeros_like(g, dtype=torch.float) for g in gt]
        else:
            masks, _ = get_class_masks(gt, ratio, self.mix_class_candidates)
        mixed_img, mixed_lbl, mixed_weight = [], [], []
        for i, mask in enumerate(masks):
            m_img, m_lbl = strong_transform(
                mask, mean[i:i + 1], std[i:i + 1],
                data=torch.stack((img[i], target_img[i])),
                target=torch.stack((gt[i, 0].long(), pseudo_label[i])),
                jitter=jitter, jitter_strength=self.color_jitter_s,
                jitter_impl=self.jitter_impl, blur=blur)
            _, m_weight = one_mix(mask, target=torch.stack(
                (torch.ones_like(pseudo_weight[i]), pseudo_weight[i])))
            mixed_img.append(m_img)
            mixed_lbl.append(m_lbl)
            mixed_weight.append(m_weight)
        return (torch.cat(mixed_img), torch.cat(mixed_lbl).unsqueeze(1),
                torch.cat(mixed_weight))
