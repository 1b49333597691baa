"""CoTTA: continual test-time adaptation."""
import torch
from mmseg.ops import resize

from ..builder import UDA
from ..utils.freeze import make_reference_model
from .ema import copy_weights
from .uda_decorator import UDADecorator

__all__ = ['CoTTA']


@UDA.register_module()
class CoTTA(UDADecorator):
    """Continual test-time adaptation (Wang et al., CVPR 2022,
    https://arxiv.org/abs/2203.13591), segmentation version.

    Per target batch: the EMA teacher predicts at several scales (and flipped);
    where the frozen source (anchor) model is confident (max softmax >=
    ``anchor_threshold``) the pseudo-label is the teacher's plain prediction,
    elsewhere the augmentation average. The student trains on it with
    cross-entropy; after the optimizer step the teacher takes an EMA step and
    each trainable student weight is restored to its source value with
    probability ``restore_probability``. The deployed prediction (stream
    accuracy, evaluation) is the pseudo-label rule itself, as in CoTTA.

    Args:
        alpha (float): teacher EMA momentum (no warm-up). Default: 0.999.
        restore_probability (float): stochastic-restore probability p.
            Default: 0.01.
        anchor_threshold (float): anchor confidence threshold in (0, 1).
            Default: 0.69.
        aug_scales (Sequence[float]): teacher input scales.
            Default: (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0).
        aug_flip (bool): add the horizontally flipped input at each scale.
            Default: True.
        **kwargs: :class:`UDADecorator` arguments.
    """

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
        # (frame, its version, teacher/anchor state step, probs): the runner's
        # online_inference and the following train_step see the same frame
        # and the same teacher, so the costly multi-scale pass runs once.
        self._deployed_cache = None

    def frozen_models(self):
        return [self.ema_model, self.anchor_model]

    def init_snapshots(self):
        """Teacher and anchor start as copies of the source student."""
        copy_weights(self.ema_model, self.model)
        copy_weights(self.anchor_model, self.model)

    @torch.no_grad()
    def teacher_aug_probs(self, img, img_metas):
        """Teacher softmax averaged over ``aug_scales`` x flips, at image size."""
        size = img.shape[-2:]
        total, count = 0.0, 0
        for scale in self.aug_scales:
            x = img if scale == 1.0 else resize(img, scale_factor=scale,
                                                mode='bilinear', align_corners=False)
            for flip in ((False, True) if self.aug_flip else (False, )):
                xi = x.flip(-1) if flip else x
                logits = self.ema_model.encode_decode(xi, img_metas)
                if flip:
                    logits = logits.flip(-1)
                logits = resize(logits, size=size, mode='bilinear',
                                align_corners=self.align_corners)
                total = total + torch.softmax(logits, dim=1)
                count += 1
        return total / count

    @torch.no_grad()
    def deployed_probs(self, img, img_metas):
        """CoTTA's prediction: teacher where the anchor is confident, else the
        teacher's augmentation average."""
        step = self.steps_done
        cache = self._deployed_cache
        # Same frame, same step: reuse. Compared by content, since the runner's
        # copy for online_inference and the one scattered into train_step are
        # different tensors on a GPU.
        if cache is not None and cache[1] == step and cache[0].shape == img.shape \
                and cache[0].device == img.device and torch.equal(cache[0], img):
            return cache[2]
        if step == 0:
            self.init_snapshots()
        anchor_conf = torch.softmax(self.anchor_model.encode_decode(img, img_metas),
                                    dim=1).max(1, keepdim=True)[0]
        plain = torch.softmax(self.ema_model.encode_decode(img, img_metas), dim=1)
        averaged = self.teacher_aug_probs(img, img_metas)
        probs = torch.where(anchor_conf >= self.anchor_threshold, plain, averaged)
        self._deployed_cache = (img.detach().clone(), step, probs)
        return probs

    def adapt(self, data_batch, log_vars, train_from_module=None, **step_kwargs):
        """Cross-entropy of the student on the teacher's pseudo-labels."""
        target_img = data_batch['target_img']
        target_img_metas = data_batch['target_img_metas']
        probs = self.deployed_probs(target_img, target_img_metas)
        pseudo_label = probs.argmax(1, keepdim=True)
        losses = self.seg_losses(self.get_model(), target_img, target_img_metas,
                                 pseudo_label, train_from_module=train_from_module)
        self.parse_and_backward(losses, 'tgt', log_vars)
        return log_vars

    @torch.no_grad()
    def after_step(self):
        """Teacher EMA step, then stochastic restore of the student."""
        self.update_teacher(self.ema_model, self.alpha)
        if self.restore_probability <= 0:
            return
        anchor = dict(self.anchor_model.named_parameters())
        for name, param in self.model.named_parameters():
            if param.requires_grad:
                keep = torch.rand(param.shape, device=param.device) \
                    >= self.restore_probability
                param.copy_(torch.where(keep, param, anchor[name]))

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
