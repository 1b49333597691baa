"""Base class of the online adaptation methods: a decorator around a segmentor.

In the line of DAFormer's ``UDADecorator`` (Hoyer et al., CVPR 2022) and HAMLET's
modular decorator (Colomer et al., ICCV 2023): the method owns the student
segmentor built from ``cfg.model`` (plus whatever teacher/reference models it
needs), answers mmseg's test API by delegating to the segmentor, and performs a
whole adaptation step in :meth:`UDADecorator.train_step`.
"""
import inspect
import math
from abc import abstractmethod
from collections import OrderedDict
from contextlib import contextmanager
from copy import deepcopy

import torch
from mmseg.core import add_prefix
from mmseg.models import build_segmentor
from mmseg.models.segmentors import BaseSegmentor

from ...core.batch import unwrap_batch
from ..segmentors.custom_encoder_decoder import weighted_head_losses
from ..utils.trainable import apply_freeze_backbone
from ..utils.norm_stats import resolve_norm_stats
from .ema import ema_tensors, ema_update
from .ewc import EWCPenalty
from .reference import FrozenReference

__all__ = ['UDADecorator', 'softmax_entropy', 'batch_norms', 'frozen_norm_stats',
           'batch_norm_stats']


def softmax_entropy(logits, dim=1):
    """Per-pixel Shannon entropy (nats) of ``softmax(logits)`` along ``dim``."""
    log_p = torch.log_softmax(logits, dim=dim)
    return -(log_p.exp() * log_p).sum(dim)


def batch_norms(module):
    """The BatchNorm layers (any ``_BatchNorm``: 1d/2d/3d, SyncBatchNorm) of
    ``module``, in ``modules()`` order."""
    return [m for m in module.modules()
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


@contextmanager
def frozen_norm_stats(module):
    """Inside the block, ``module``'s BatchNorm layers in train mode still
    normalise with the batch statistics but leave their running statistics
    unchanged (momentum 0; restored on exit, also on error)."""
    layers = batch_norms(module)
    momenta = [m.momentum for m in layers]
    for m in layers:
        m.momentum = 0.0
    try:
        yield
    finally:
        for m, momentum in zip(layers, momenta):
            m.momentum = momentum


@contextmanager
def batch_norm_stats(module):
    """Inside the block, ``module``'s BatchNorm layers normalise with the batch's
    own statistics (train mode) whatever the module's mode, and leave their running
    statistics unchanged; the rest of the module (dropout, drop-path) keeps its
    mode. This is how DAFormer's and HAMLET's EMA teacher normalises: it runs in
    train mode with dropout and drop-path switched off. Modes and momenta are
    restored on exit, also on error, as is the eval-mode lock of frozen layers
    (:func:`~mmseg_ext.models.utils.freeze.freeze`'s ``frozen_eval``), which is
    lifted inside the block."""
    layers = batch_norms(module)
    saved = [(m.training, getattr(m, 'frozen_eval', False)) for m in layers]
    try:
        with frozen_norm_stats(module):
            for m in layers:
                m.frozen_eval = False
                m.train()
            yield
    finally:
        for m, (mode, locked) in zip(layers, saved):
            m.train(mode)
            m.frozen_eval = locked


class UDADecorator(BaseSegmentor):
    """A segmentor wrapped by an online adaptation method.

    Subclasses implement :meth:`adapt` (losses and ``backward`` of one step) and
    may override :meth:`after_step` (EMA update, stochastic restore) and
    :meth:`init_snapshots` (copies of the source model taken at the first step).
    The step itself (``zero_grad`` -> ``adapt`` -> EWC penalty -> ``step``) is
    :meth:`train_step`, the runner's only training call.

    The step count is the ``local_iter`` buffer (saved and resumed with the
    ``state_dict``) and its host copy :attr:`steps_done`, which the control flow
    reads, so that no step waits for the device to tell it the count.

    Modular training (HAMLET): ``train_step(..., train_from_module=k)`` reaches
    :meth:`seg_losses`, which passes ``k`` on to a segmentor whose
    ``forward_train`` takes it (``ModularEncoderDecoder``) and refuses any other.

    Args:
        model (dict): config of the student segmentor (``cfg.model``, with its
            ``train_cfg``/``test_cfg``).
        freeze_backbone (bool): freeze the student's backbone except the
            parameters named by ``trainable_keys`` (adapters); teachers and
            reference models copied from the student inherit it. Default: False.
        trainable_keys (Sequence[str]): substrings of backbone parameter names
            kept trainable when ``freeze_backbone`` (the ``'keys'`` mode of
            :func:`mmseg_ext.models.utils.trainable.set_trainable`). Default: ().
        ewc_lambda (float): weight of the EWC penalty (Kirkpatrick et al., PNAS
            2017); 0 disables it. Default: 0.0.
        ewc_fisher_batches (int): source batches the Fisher information is
            estimated on. Default: 8.
        ewc_fisher_file (str | None): cache of the Fisher information (computed
            once, then loaded); None computes it every run. Default: None.
        log_grad_magnitude (bool): log the L2 norm of each loss term's gradient on
            the student's trainable parameters as ``grad_mag.<term>``.
            Default: False.
        norm_stats (dict | None): where BatchNorm statistics come from (fields
            ``student``, ``predict``, ``source_pass``, ``target_pass``,
            ``teacher``; see :mod:`~mmseg_ext.models.utils.norm_stats`); the
            fields given update the method's :attr:`NORM_STATS`, each checked against
            :attr:`NORM_STATS_CHOICES`. ``target_pass=True`` is AdaBN's
            target-statistics re-estimation (Li et al., Pattern Recognition
            2018; Schneider et al., NeurIPS 2020) run online: each step ends
            with one gradient-free train-mode forward of the student on the
            target frame. Default: None (the method's defaults).
        init_cfg (dict | None): mmcv init config. Default: None.
    """

    #: True for methods that need the source keys in every data batch.
    needs_source = False
    #: The method's ``norm_stats`` defaults (its published behaviour) and the
    #: values each field may take (:mod:`~mmseg_ext.models.utils.norm_stats`).
    NORM_STATS = dict(student='batch', predict='running', source_pass=None,
                      target_pass=False, teacher=None)
    NORM_STATS_CHOICES = dict(student=('batch', 'running'), predict=('running',),
                              source_pass=(None,), target_pass=(False, True),
                              teacher=(None,))

    def __init__(self,
                 model,
                 freeze_backbone=False,
                 trainable_keys=(),
                 ewc_lambda=0.0,
                 ewc_fisher_batches=8,
                 ewc_fisher_file=None,
                 log_grad_magnitude=False,
                 norm_stats=None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if not isinstance(model, dict) or 'type' not in model:
            raise TypeError(f'{type(self).__name__}: model must be a segmentor '
                            f'config dict with a type, got {model!r}')
        if ewc_lambda < 0:
            raise ValueError(f'{type(self).__name__}: ewc_lambda must be >= 0, '
                             f'got {ewc_lambda}')
        self.norm_stats = resolve_norm_stats(type(self).__name__, norm_stats,
                                             self.NORM_STATS, self.NORM_STATS_CHOICES)
        self.model = build_segmentor(deepcopy(model))
        self.train_cfg = self.model.train_cfg
        self.test_cfg = self.model.test_cfg
        self.num_classes = self.model.num_classes
        self.align_corners = self.model.align_corners
        self.freeze_backbone = freeze_backbone
        apply_freeze_backbone(self.model, freeze_backbone, trainable_keys,
                              type(self).__name__, 'uda.trainable_keys',
                              scope='backbone')
        self.log_grad_magnitude = log_grad_magnitude
        self._grad_before = None  # gradients after the previous loss term
        self._step_losses = []  # loss terms of the current step (policy_loss)
        self._fwd_args = set(inspect.signature(self.model.forward_train).parameters)
        self.register_buffer('local_iter', torch.zeros((), dtype=torch.long))
        self.steps_done = 0  # host copy of local_iter (set again on load)
        self._ema_cache = None  # (teacher, student, their ema_tensors)
        self.ewc = None
        self.ewc_cfg = dict(lambda_=ewc_lambda, num_batches=ewc_fisher_batches,
                            cache_file=ewc_fisher_file)
        self.init_ewc()

    def init_ewc(self):
        """Builds the EWC penalty over the parameters trainable now.

        Called at the end of ``__init__``; a subclass that changes which
        parameters train (TENT: norm affine parameters only) calls it again.
        """
        if self.ewc_cfg['lambda_'] > 0:
            self.ewc = EWCPenalty(
                [(n, p) for n, p in self.model.named_parameters() if p.requires_grad],
                **self.ewc_cfg)

    # ------------------------------------------------------------------ models
    def get_model(self):
        """The student segmentor."""
        return self.model

    def frozen_models(self):
        """Teacher/reference models, kept in eval mode by :meth:`train`."""
        return []

    def train(self, mode=True):
        """Sets the student's mode; teachers and references stay in eval mode, and
        so do the student's BatchNorm layers with ``norm_stats.student='running'``."""
        super().train(mode)
        for m in self.frozen_models():
            m.eval()
        if mode and self.norm_stats['student'] == 'running':
            for module in batch_norms(self.get_model()):
                module.eval()
        return self

    def update_teacher(self, teacher, alpha, buffers=True):
        """:func:`~.ema.ema_update` of ``teacher`` from the student.

        The tensor lists are made at the first call and reused; moving the
        method (``.to()``, ``.cuda()``: new buffer tensors) makes them again.

        Args:
            teacher (nn.Module): the EMA teacher (a mirror of the student).
            alpha (float): momentum in [0, 1].
            buffers (bool): also copy the student's floating-point buffers
                (BatchNorm running statistics) into the teacher; False averages
                the parameters only, as DAFormer's ``_update_ema``.
                Default: True.
        """
        student = self.get_model()
        cache = self._ema_cache
        if cache is None or cache[0] is not teacher or cache[1] is not student:
            cache = self._ema_cache = (teacher, student, ema_tensors(teacher, student))
        tensors = cache[2] if buffers else (*cache[2][:2], [], [])
        ema_update(teacher, student, alpha, tensors)

    def _apply(self, fn, *args, **kwargs):
        self._ema_cache = None  # device/dtype moves replace the buffer tensors
        return super()._apply(fn, *args, **kwargs)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self.steps_done = int(self.local_iter)  # a resumed step count

    # ------------------------------------------------- mmseg segmentor API
    def extract_feat(self, img, **kwargs):
        """Student features (mmseg API; ``module=k`` reaches a modular segmentor)."""
        return self.get_model().extract_feat(img, **kwargs)

    def encode_decode(self, img, img_metas, **kwargs):
        """Student logits at image size (mmseg API; ``module=k`` decodes from
        module k of a ``ModularEncoderDecoder``, HAMLET's early exit)."""
        return self.get_model().encode_decode(img, img_metas, **kwargs)

    @property
    def num_modules(self):
        """Modules of the student (MiT stages of a modular segmentor; else 1)."""
        return getattr(self.get_model(), 'num_modules', 1)

    def forward_train(self, img, img_metas, gt_semantic_seg, **kwargs):
        """Supervised student losses (source training through mmseg's API)."""
        return self.get_model().forward_train(img, img_metas, gt_semantic_seg,
                                              **kwargs)

    def inference(self, img, img_meta, rescale):
        """Student softmax output (mmseg API)."""
        return self.get_model().inference(img, img_meta, rescale)

    def simple_test(self, img, img_meta, rescale=True):
        """Student prediction (mmseg API, used by the eval hook)."""
        return self.get_model().simple_test(img, img_meta, rescale)

    def aug_test(self, imgs, img_metas, rescale=True):
        """Student test-time-augmented prediction (mmseg API)."""
        return self.get_model().aug_test(imgs, img_metas, rescale)

    # ---------------------------------------------------------- online API
    @torch.no_grad()
    def online_inference(self, img, img_metas):
        """The deployed prediction on an incoming frame, before adapting on it.

        Args:
            img (Tensor): ``[N, 3, H, W]`` normalised frames.
            img_metas (list[dict]): their metas.

        Returns:
            dict: ``pred`` (LongTensor ``[N, H, W]``), ``entropy`` (mean
            per-pixel softmax entropy in nats, ``[N]``) and ``probs`` (the
            deployed softmax ``[N, C, H, W]``). The runner passes it back to
            :meth:`train_step` as ``inference`` (CoTTA's step reuses ``probs``).
        """
        probs = self.deployed_probs(img, img_metas)
        entropy = -(probs * probs.clamp_min(1e-12).log()).sum(1)
        return dict(pred=probs.argmax(1), entropy=entropy.flatten(1).mean(1),
                    probs=probs)

    def make_reference(self, module=None):
        """The domain detector's reference signal: a frozen copy of the student
        as it is now (the source model, before the stream).

        Args:
            module (int | None): the module the copy decodes from (HAMLET: 1,
                its lightweight decoder); None: the full output. Default: None.

        Returns:
            FrozenReference: ``loss(img, img_metas, pred)`` is the copy's
            cross-entropy against the prediction ``pred``.
        """
        return FrozenReference(self.get_model(), module)

    def deployed_probs(self, img, img_metas):
        """Softmax of the deployed model at image size (the student, eval mode)."""
        model = self.get_model()
        was_training = model.training
        model.eval()
        try:
            logits = model.encode_decode(img, img_metas)
        finally:
            if was_training:
                self.train()
        return torch.softmax(logits, dim=1)

    def before_stream(self, source_batches):
        """Prepares source statistics before the first target batch.

        With ``ewc_lambda > 0``: loads the Fisher information from
        ``ewc_fisher_file`` or estimates it on ``ewc_fisher_batches`` batches of
        ``source_batches`` with the current (source) student.

        Args:
            source_batches (Iterable[dict]): source data batches (``img``,
                ``img_metas``, ``gt_semantic_seg``).
        """
        if self.ewc is None or bool(self.ewc.ready):
            return
        if not self.ewc.load_cache(self.get_model()):
            model = self.get_model()
            was_training = model.training
            model.eval()
            try:
                self.ewc.estimate(model, self._supervised_loss, source_batches)
            finally:
                if was_training:
                    self.train()
            self.ewc.save_cache()

    def _supervised_loss(self, batch):
        batch = self._unwrap(batch)
        model = self.get_model()
        losses = self.seg_losses(model, batch['img'], batch['img_metas'],
                                 batch['gt_semantic_seg'])
        loss, _ = self._parse_losses(losses)
        return loss

    def _unwrap(self, batch):
        """A collated batch (DataContainers, as a DataLoader gives) for the
        student: containers unpacked, tensors on the student's device."""
        return unwrap_batch(batch, next(self.get_model().parameters()).device)

    def train_step(self, data_batch, optimizer, inference=None, **step_kwargs):
        """One online adaptation step (zero_grad, losses/backward, step).

        Args:
            data_batch (dict): source keys ``img``, ``img_metas``,
                ``gt_semantic_seg`` (methods with ``needs_source``), target keys
                ``target_img``, ``target_img_metas`` and optionally
                ``target_gt_semantic_seg``.
            optimizer (torch.optim.Optimizer): optimizer of the student.
            inference (dict | None): what :meth:`online_inference` returned for
                the batch's target frames with the current weights (the runner
                passes it); methods that start from the deployed prediction
                reuse it (CoTTA's teacher pass). None computes what is needed.
                Default: None.
            **step_kwargs: ``train_from_module`` (modular training) and
                ``mix_ratio`` (DACS); methods ignore what they do not use.

        Returns:
            dict: ``log_vars`` (floats), ``num_samples`` and ``policy_loss``
            (float: the sum of the step's loss terms as logged, unweighted;
            nan without any), what a modular-training policy learns from.
        """
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f'{type(self).__name__}.train_step needs one '
                            f'torch.optim.Optimizer over the student, got '
                            f'{type(optimizer).__name__}')
        self.check_batch(data_batch)
        if self.steps_done == 0:
            self.init_snapshots()
            if self.ewc is not None and not bool(self.ewc.ready) \
                    and not self.ewc.load_cache(self.get_model()):
                raise RuntimeError(
                    f'{type(self).__name__}: ewc_lambda > 0 needs the Fisher '
                    f'information: call before_stream(source_batches) before the '
                    f'first step or point ewc_fisher_file to an existing cache '
                    f'(got {self.ewc.cache_file!r})')
        self.train()
        optimizer.zero_grad()
        log_vars = OrderedDict()
        self._grad_before = None
        self._step_losses = []
        self.adapt(data_batch, log_vars, inference=inference, **step_kwargs)
        if self.ewc is not None:
            penalty = self.ewc(self.get_model())
            self.backward(penalty, 'ewc', log_vars)
        if self.norm_stats['target_pass']:
            self.update_norm_stats(data_batch['target_img'],
                                   data_batch['target_img_metas'])
        optimizer.step()
        self.after_step()
        self.local_iter += 1  # in place on the device, no sync
        self.steps_done += 1
        num = data_batch.get('target_img', data_batch.get('img'))
        policy_loss = sum(self._step_losses) if self._step_losses else float('nan')
        return dict(log_vars=log_vars, num_samples=len(num), policy_loss=policy_loss)

    @torch.no_grad()
    def update_norm_stats(self, img, img_metas):
        """A gradient-free train-mode forward of the student on ``img``: its
        BatchNorm layers fold the batch statistics into their running ones."""
        self.get_model().encode_decode(img, img_metas)

    def check_batch(self, data_batch):
        """Raises when the batch lacks what the method needs."""
        needed = ['target_img', 'target_img_metas']
        if self.needs_source:
            needed = ['img', 'img_metas', 'gt_semantic_seg'] + needed
        missing = [k for k in needed if data_batch.get(k) is None]
        if missing:
            raise KeyError(f'{type(self).__name__}: data batch has no {missing}; '
                           f'it has {sorted(data_batch)}')

    @abstractmethod
    def adapt(self, data_batch, log_vars, **step_kwargs):
        """Computes the method's losses and calls :meth:`backward` on them."""

    def init_snapshots(self):
        """Copies of the source model, taken at the first step (none here)."""

    def after_step(self):
        """Runs after ``optimizer.step()`` (nothing here)."""

    # ------------------------------------------------------------- helpers
    def seg_losses(self, model, img, img_metas, gt_semantic_seg, seg_weight=None,
                   return_feat=False, train_from_module=None):
        """Supervised losses of ``model``, with per-pixel weights and features.

        Uses the segmentor's own ``forward_train`` when it takes ``seg_weight``
        and ``return_feat`` (``CustomEncoderDecoder``, ``ModularEncoderDecoder``);
        for mmseg's ``EncoderDecoder`` computes the head losses here. Both go
        through :func:`weighted_head_losses`: decode and auxiliary heads get the
        same pixel weights.

        Args:
            model (BaseSegmentor): the segmentor (student).
            img (Tensor): ``[N, 3, H, W]``.
            img_metas (list[dict]): metas.
            gt_semantic_seg (Tensor): ``[N, 1, H, W]`` labels.
            seg_weight (Tensor | None): ``[N, H, W]`` pixel weights. Default: None.
            return_feat (bool): add ``'features'``. Default: False.
            train_from_module (int | None): modular training (HAMLET).
                Default: None.
        """
        kwargs = {}
        if train_from_module is not None:
            if 'train_from_module' not in self._fwd_args:
                raise TypeError(
                    f'{type(self).__name__}: train_from_module={train_from_module} '
                    f'needs a modular segmentor (ModularEncoderDecoder), got '
                    f'{type(model).__name__}')
            kwargs['train_from_module'] = train_from_module
        if {'seg_weight', 'return_feat'} <= self._fwd_args:
            return model.forward_train(img, img_metas, gt_semantic_seg,
                                       seg_weight=seg_weight,
                                       return_feat=return_feat, **kwargs)
        feats = model.extract_feat(img)
        losses = OrderedDict()
        if return_feat:
            losses['features'] = feats
        losses.update(weighted_head_losses(model, feats, gt_semantic_seg, seg_weight))
        return losses

    def backward(self, loss, name, log_vars, retain_graph=False, log_value=True):
        """``loss.backward()``, logging its value and (optionally) grad magnitude.

        Args:
            loss (Tensor): scalar loss term.
            name (str): term name, logged as ``loss_<name>``.
            log_vars (dict): filled with the value (and ``grad_mag.<name>``).
            retain_graph (bool): keep the graph for a later term. Default: False.
            log_value (bool): log ``loss_<name>`` (off when the parts are logged
                already, so no loss is counted twice). Default: True.
        """
        loss.backward(retain_graph=retain_graph)
        if log_value:
            log_vars[f'loss_{name}'] = float(loss.detach())
            self._step_losses.append(log_vars[f'loss_{name}'])
        if self.log_grad_magnitude:
            params = [p for p in self.get_model().parameters() if p.requires_grad]
            grads = [p.grad.detach().clone() if p.grad is not None
                     else torch.zeros_like(p) for p in params]
            before = self._grad_before or [torch.zeros_like(g) for g in grads]
            sq = sum(float((g - b).pow(2).sum()) for g, b in zip(grads, before))
            log_vars[f'grad_mag.{name}'] = math.sqrt(sq)
            self._grad_before = grads

    def parse_and_backward(self, losses, name, log_vars, weight=1.0,
                           retain_graph=False):
        """Sums an mmseg loss dict, backpropagates ``weight *`` it, logs the parts.

        The parts are logged unweighted under ``<name>.`` (``mix.decode.loss_ce``,
        ``mix.decode.acc_seg``), as DAFormer logs them.

        Returns:
            dict: the non-loss entries removed from ``losses`` (``features``).
        """
        extra = {k: losses.pop(k) for k in list(losses) if k == 'features'}
        loss, parts = self._parse_losses(losses)
        parts.pop('loss', None)
        log_vars.update(add_prefix(parts, name))
        # the loss terms by mmseg's rule (`_parse_losses` sums the keys with 'loss')
        self._step_losses.extend(v for k, v in parts.items() if 'loss' in k)
        self.backward(weight * loss, name, log_vars, retain_graph=retain_graph,
                      log_value=False)
        return extra
