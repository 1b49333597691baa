"""The online runner: a target stream of domains, adapted frame by frame.

Protocol of OnDA (Panagiotakopoulos et al., "Online Domain Adaptation for Semantic
Segmentation in Ever-Changing Conditions", ECCV 2022) and HAMLET (Colomer et al.,
"To Adapt or Not to Adapt? Real-Time Adaptation for Semantic Segmentation", ICCV
2023): a model trained on the clear source domain meets the domains of
``domain_order`` one after the other (the "increasing storm": clear, rain 25..200
mm/h and back). For every incoming frame it first predicts (the deployed output,
scored as stream accuracy), then adapts on it with the method's ``train_step``,
pairing it with a replayed source batch. The runner streams; whether and how a
frame adapts is decided by :class:`~online_src.controller.OnlineController`, which
holds HAMLET's parts (a domain-change detector, a training budget after each
change, an adaptive learning rate / mix ratio, modular training (MAD)), each
configured in its section of ``runner.controller`` with HAMLET's published
behaviour and the project's variants as options; the source buffer is the
runner's (``configs/_base_/online/online_runner.py``).

mmcv's hook stages map onto the stream: one *iteration* is one frame, one *epoch*
is one visit of a domain, so mmcv's logger, timer and checkpoint hooks work as
usual and :class:`~mmseg_ext.core.evaluation.OnlineEvalHook` evaluates after each
domain.
"""
import os.path as osp

import torch
from mmcv.parallel import collate, is_module_wrapper
from mmcv.runner import RUNNERS, BaseRunner, get_dist_info
from mmcv.runner.checkpoint import weights_to_cpu

from mmseg_ext.core.batch import unwrap_batch
from mmseg_ext.core.checkpoint import atomic_save, load_checkpoint_file, point_latest
from mmseg_ext.core.evaluation import (StreamAccuracy, atomic_np_save,
                                        atomic_write_json)
from mmseg_ext.core.run_safety import (FrameLoadError, NonFiniteLossError,
                                       check_nonfinite_mode, guard_optimizer_step,
                                       nonfinite_message, nonfinite_terms, sample_file)
from .controller import OnlineController, resolve_controller_cfg
from .replay_buffer import ReplayBuffer, SourceStream, SourceSubset, index_batches
from .rng import get_rng_state, seeded, set_rng_state
from .timing import StreamTimer

__all__ = ['OnlineRunner', 'STORM_ORDER', 'check_domain_order', 'unwrap_batch']

STORM_ORDER = ('clear', '25mm', '50mm', '75mm', '100mm', '200mm', '100mm', '75mm',
               '50mm', '25mm', 'clear')


def check_domain_order(domain_order, names, what='target datasets'):
    """Raises a clear error when ``domain_order`` names a domain not in ``names``."""
    if not domain_order:
        raise ValueError('runner.domain_order is empty: name at least one domain')
    unknown = [d for d in domain_order if d not in names]
    if unknown:
        raise ValueError(f'runner.domain_order names unknown domain(s) {unknown}; '
                         f'the {what} are {sorted(names)}')


@RUNNERS.register_module()
class OnlineRunner(BaseRunner):
    """Streams target domains through an adaptation method (OnDA/HAMLET protocol).

    The runner streams; an :class:`~online_src.controller.OnlineController`
    (``controller``) decides. Each frame reads: infer (the method's
    ``online_inference``) -> score (stream accuracy) -> the controller decides
    (adapt?, learning rate, mix ratio, module) -> ``train_step(data_batch,
    optimizer, inference=..., **decision)`` -> the controller observes (the
    step's ``policy_loss``, its time, the detector signal). The method is known
    only through its documented calls (docs/interfaces.md).

    Args:
        model (nn.Module): the method (``train_step``, ``online_inference``),
            possibly inside mmcv's data-parallel wrapper.
        batch_processor: unused, must be None (mmcv signature).
        optimizer (Optimizer): stepped by the method's ``train_step``.
        work_dir (str): where logs, ``fps.npy``, ``summary.json`` and
            checkpoints go.
        logger (logging.Logger): the run's logger.
        meta (dict): run metadata; ``config_hash`` guards resuming.
        domain_order (Sequence[str]): target domain names in stream order.
            Default: the increasing storm :data:`STORM_ORDER`.
        frames_per_domain (int | None): frames streamed per visit of a domain
            (wraps around a smaller dataset); None streams each dataset once.
            Default: None.
        shuffle_stream (bool): seeded shuffle of each visit's frames. Default: False.
        seed (int | None): seed of the stream order, replay draws and policies;
            None: 0 (``train_online`` passes the config's global ``seed``).
            Default: None.
        adapt (bool): call ``train_step``; False is inference only (source-only
            baseline). Default: True.
        replay_source (bool | None): pair every target batch with a source
            batch; None asks the method (its ``needs_source`` attribute, True when
            it has none). Default: None.
        replay_buffer_size (int): source batches kept in memory and replayed;
            0 reads the source dataset for every step. Default: 0.
        shuffle_source (bool): seeded shuffle of the source order. Default: True.
        source_buffer (dict | None): arguments of :class:`SourceSubset` (size,
            policy, read): the source stream cycles through that subset (HAMLET's
            buffer); None or ``size=None`` streams the whole source. Default: None.
        controller (dict | None): :class:`~online_src.controller.OnlineController`
            sections ``budget``, ``detector``, ``schedule``, ``module_policy``;
            None: adapt on every frame. Default: None.
        num_classes (int): classes of the stream accuracy. Default: 19.
        ignore_index (int): label value left out of the stream accuracy.
            Default: 255.
        nonfinite_loss (str): a step whose loss or gradient is NaN/inf is never
            applied; 'stop' then ends the run with :class:`NonFiniteLossError`
            naming the frame, domain and loss terms, 'skip' goes on and counts it
            (``nonfinite_skipped`` in the summary). Default: 'stop'.
        max_iters, max_epochs: unused (the stream defines them), must be None.
        **deprecated: the flat keys of the controller's parts before it had its
            own section (``budget``, ``domain_detector``, ``alpha``, ...), moved
            into ``controller`` with a warning
            (:data:`~online_src.controller.DEPRECATED_RUNNER_KEYS`).
    """

    def __init__(self, model, batch_processor=None, optimizer=None, work_dir=None,
                 logger=None, meta=None, domain_order=STORM_ORDER,
                 frames_per_domain=None, shuffle_stream=False, seed=None, adapt=True,
                 replay_source=None, replay_buffer_size=0, shuffle_source=True,
                 source_buffer=None, controller=None, num_classes=19, ignore_index=255,
                 nonfinite_loss='stop', max_iters=None, max_epochs=None, **deprecated):
        super().__init__(model, batch_processor, optimizer, work_dir, logger, meta)
        if max_iters is not None or max_epochs is not None:
            raise ValueError('OnlineRunner: max_iters/max_epochs are given by the '
                             'stream (domain_order x frames_per_domain); remove them')
        if isinstance(domain_order, str) or not domain_order:
            raise ValueError(f'OnlineRunner: domain_order must be a non-empty list of '
                             f'domain names, got {domain_order!r}')
        if frames_per_domain is not None and int(frames_per_domain) < 1:
            raise ValueError(f'OnlineRunner: frames_per_domain must be >= 1 or None, '
                             f'got {frames_per_domain}')
        check_nonfinite_mode(nonfinite_loss, 'OnlineRunner')
        self.nonfinite_loss = nonfinite_loss
        self.nonfinite_skipped = 0
        self.domain_order = list(domain_order)
        self.frames_per_domain = None if frames_per_domain is None else int(frames_per_domain)
        self.shuffle_stream = bool(shuffle_stream)
        self.seed = 0 if seed is None else int(seed)
        self.adapt = bool(adapt)
        self.replay_source = replay_source
        self.replay_buffer_size = int(replay_buffer_size)
        self.shuffle_source = bool(shuffle_source)
        self.source_buffer = dict(source_buffer or {})
        if self.source_buffer.get('size') is None:
            self.source_buffer = None
        try:
            self.controller = OnlineController(
                **resolve_controller_cfg(controller, deprecated), seed=self.seed)
        except (TypeError, ValueError) as err:
            raise type(err)(f'OnlineRunner: {err}') from err
        self.stream_accuracy = StreamAccuracy(num_classes, ignore_index)
        self.visit_accuracy = StreamAccuracy(num_classes, ignore_index)
        self.timer = StreamTimer()
        self.frames_done = 0
        self.position = (0, 0)  # (visit, frames of the visit done)
        self.replay = None
        self._resume_state = None
        self.targets = {}

    # ------------------------------------------------------------------ helpers
    @property
    def method(self):
        """nn.Module: the adaptation method without its parallel wrapper."""
        return self.model.module if is_module_wrapper(self.model) else self.model

    @property
    def device(self):
        """torch.device: where the method's parameters live."""
        param = next(self.method.parameters(), None)
        return param.device if param is not None else torch.device('cpu')

    @property
    def current_domain(self):
        """str: the name of the domain being streamed."""
        return self.domain_order[min(self.epoch, len(self.domain_order) - 1)]

    def _visit_indices(self, visit, dataset):
        n = len(dataset)
        frames = n if self.frames_per_domain is None else self.frames_per_domain
        order = list(range(n))
        if self.shuffle_stream:
            g = torch.Generator().manual_seed(self.seed * 7919 + visit)
            order = torch.randperm(n, generator=g).tolist()
        return [order[i % n] for i in range(frames)]

    # -------------------------------------------------------------- the stream
    def run(self, data_loaders, workflow=None, **kwargs):
        """Streams the target domains.

        Args:
            data_loaders (list): the source loader (or dataset) first, then one per
                target domain; loaders give ``.dataset`` and ``.batch_size``.
            workflow: ignored (mmcv signature).
        """
        loaders = list(data_loaders)
        if not loaders:
            raise ValueError('OnlineRunner.run needs the source loader first, then '
                             'the target loaders; got none')
        source = loaders.pop(0)
        source_ds = getattr(source, 'dataset', source)
        src_bs = getattr(source, 'batch_size', None) or 1
        self.targets = {}
        batch_size = 1
        for loader in loaders:
            ds = getattr(loader, 'dataset', loader)
            name = getattr(ds, 'name', None)
            if name is None:
                raise ValueError(f'target dataset {type(ds).__name__} has no `name`; '
                                 f'every stream dataset must name its domain')
            self.targets[name] = ds
            batch_size = getattr(loader, 'batch_size', None) or 1
        check_domain_order(self.domain_order, self.targets)
        self._max_epochs = len(self.domain_order)
        self._max_iters = sum(
            len(index_batches(self._visit_indices(v, self.targets[d]), batch_size))
            for v, d in enumerate(self.domain_order))
        if self.source_buffer is not None:
            source_ds = SourceSubset(source_ds, seed=self.seed, **self.source_buffer)
        self.replay = ReplayBuffer(
            SourceStream(source_ds, src_bs, self.shuffle_source, self.seed),
            self.replay_buffer_size, self.seed)
        self.controller.before_stream(self.method)

        if self.replay_source is None:
            self.replay_source = bool(getattr(self.method, 'needs_source', True))
        fresh = self._resume_state is None
        if not fresh:
            self._restore(self._resume_state)
            self._resume_state = None
        self.mode = 'train'
        self.model.train()
        self.logger.info(
            f'OnlineRunner: {len(self.domain_order)} visits {self.domain_order}, '
            f'{self._max_iters} frames, adapt={self.adapt}, '
            f'budget={self.controller.budget.frames}, detector={self.controller.signal}, '
            f'modules={self.controller.policy is not None}, start at '
            f'visit {self.position[0]} frame {self.position[1]}')
        self.call_hook('before_run')
        if fresh and self.adapt and callable(getattr(self.method, 'before_stream', None)):
            self.method.before_stream(self.replay)

        start_visit, start_frame = self.position
        for visit in range(start_visit, len(self.domain_order)):
            name = self.domain_order[visit]
            dataset = self.targets[name]
            batches = index_batches(self._visit_indices(visit, dataset), batch_size)
            self._epoch = visit
            self.data_loader = batches
            first = start_frame if visit == start_visit else 0
            if first == 0:
                self.controller.start_domain()
            self.call_hook('before_train_epoch')
            for f in range(first, len(batches)):
                self._inner_iter = f
                with seeded(self.seed, visit, f):
                    batch = self._load_frame(dataset, batches[f], visit, name)
                self.call_hook('before_train_iter')
                self._stream_frame(visit, name, batch)
                self.frames_done += 1
                self.position = (visit, f + 1)
                self.call_hook('after_train_iter')
                self._iter += 1
            self.position = (visit, len(batches))
            self.call_hook('after_train_epoch')
            self.position = (visit + 1, 0)
        self._epoch = len(self.domain_order)
        self._finish()
        self.call_hook('after_run')

    def _load_frame(self, dataset, indices, visit, name):
        """The collated batch of ``indices``; a failure names file, domain, frame."""
        samples = []
        for i in indices:
            try:
                samples.append(dataset[i])
            except Exception as err:
                raise FrameLoadError(
                    f'cannot load frame {self.frames_done} (visit {visit}, domain '
                    f'{name!r}, dataset index {i}, file {sample_file(dataset, i)}): '
                    f'{type(err).__name__}: {err}') from err
        return collate(samples, samples_per_gpu=len(indices))

    def _check_step(self, visit, name, log_vars, guard):
        """Stops or counts a step with a non-finite loss/gradient; the finite terms."""
        bad = nonfinite_terms(log_vars)
        if not bad and not guard.skipped:
            return log_vars
        where = f'frame {self.frames_done} (visit {visit}, domain {name!r})'
        if self.nonfinite_loss == 'stop':
            raise NonFiniteLossError(nonfinite_message(where, bad, guard.skipped))
        self.nonfinite_skipped += 1
        guard.restore()  # the skipped step's forward pass (BatchNorm statistics)
        self.logger.warning(nonfinite_message(where, bad, guard.skipped, mode_hint=False)
                            + f'; skipped steps so far: {self.nonfinite_skipped}')
        return {k: v for k, v in log_vars.items() if k not in bad}

    def _stream_frame(self, visit, name, batch):
        """One frame: infer -> score -> decide -> train step -> observe."""
        device = self.device
        t0 = self.timer.now(device)
        target = unwrap_batch(batch, device)
        with torch.no_grad():
            out = self.method.online_inference(target['img'], target['img_metas'])
        if 'gt_semantic_seg' in target:
            areas = self.stream_accuracy.frame_areas(out['pred'], target['gt_semantic_seg'],
                                                     name)
            self.stream_accuracy.add(name, areas)
            self.visit_accuracy.add(f'{visit}:{name}', areas)
        frame = dict(img=target['img'], img_metas=target['img_metas'], inference=out)
        decision = self.controller.decide(frame, self.optimizer, adapt=self.adapt)
        self._log_changes(visit, name)
        outputs, step_seconds = None, 0.0
        if decision.adapt:
            outputs, step_seconds = self._train_step(visit, name, batch, out, decision)
        self.controller.observe(frame, decision, outputs, step_seconds)
        self._log_changes(visit, name)
        frame_seconds = self.timer.now(device) - t0
        self.timer.add(visit, decision.adapt, frame_seconds, step_seconds)
        extra = dict(self.controller.log_vars, adapted=float(decision.adapt),
                     frame_time=frame_seconds)
        if decision.adapt:
            extra['step_time'] = step_seconds
        self.log_buffer.update(extra)

    def _train_step(self, visit, name, batch, inference, decision):
        """The method's step on the frame (with a source batch when it needs one);
        its outputs and duration."""
        device = self.device
        data_batch = {f'target_{k}': v for k, v in batch.items()}
        if self.replay_source:
            data_batch.update(self.replay.next())
        ts = self.timer.now(device)
        with guard_optimizer_step(self.optimizer, self.method
                                  if self.nonfinite_loss == 'skip' else None) as guard:
            outputs = self.model.train_step(data_batch, self.optimizer,
                                            inference=inference, **decision.step_kwargs)
        step_seconds = self.timer.now(device) - ts
        log_vars = self._check_step(visit, name, dict(outputs.get('log_vars', {})), guard)
        if log_vars:
            self.log_buffer.update(log_vars, outputs.get('num_samples', 1))
        return outputs, step_seconds

    def _log_changes(self, visit, name):
        for det in self.controller.changes:
            self.logger.info(
                f'domain change detected at frame {self.frames_done} (visit {visit} '
                f'{name}): jump {det["jump"]:+.4f} (relative {det["relative_jump"]:+.3f})')
        self.controller.changes = []

    def _finish(self):
        summary = self.summary()
        self.logger.info('stream timing: ' + ', '.join(
            f'{k}={v:.3f}' if isinstance(v, float) else f'{k}={v}'
            for k, v in summary['timing'].items()))
        if self.work_dir is not None and get_dist_info()[0] == 0:
            atomic_np_save(self.timer.as_array(), osp.join(self.work_dir, 'fps.npy'))
            atomic_write_json(summary, osp.join(self.work_dir, 'summary.json'))

    def summary(self):
        """dict: timing and per-domain stream accuracy of the run so far."""
        return dict(
            domain_order=self.domain_order, frames=self.frames_done,
            domain_values={n: getattr(ds, 'domain', None)
                           for n, ds in self.targets.items()},
            timing=self.timer.summary(),
            stream_accuracy={k: dict(self.stream_accuracy.metrics(k))
                             for k in self.stream_accuracy.keys()},
            visit_stream_accuracy={k: self.visit_accuracy.metrics(k)['mIoU']
                                   for k in self.visit_accuracy.keys()},
            detected_changes=[list(c) for c in self.controller.detector.changes]
            if self.controller.detector else [],
            nonfinite_skipped=self.nonfinite_skipped)

    def train(self):
        """mmcv API: the stream is driven by :meth:`run`."""
        raise NotImplementedError('OnlineRunner streams with run(); it has no '
                                  'separate train() epoch')

    def val(self):
        """mmcv API: evaluation is :class:`OnlineEvalHook`'s."""
        raise NotImplementedError('OnlineRunner evaluates through OnlineEvalHook')

    # ---------------------------------------------------------- checkpointing
    def _online_state(self):
        state = dict(
            position=list(self.position), frames_done=self.frames_done,
            iter=self.frames_done, controller=self.controller.state_dict(),
            stream_accuracy=self.stream_accuracy.state_dict(),
            visit_accuracy=self.visit_accuracy.state_dict(),
            timer=self.timer.state_dict(),
            nonfinite_skipped=self.nonfinite_skipped,
            rng=get_rng_state(),
            replay=self.replay.state_dict() if self.replay is not None else None,
            hooks={type(h).__name__: h.state_dict() for h in self.hooks
                   if callable(getattr(h, 'state_dict', None))})
        return state

    def save_checkpoint(self, out_dir, filename_tmpl='iter_{}.pth', save_optimizer=True,
                        meta=None, create_symlink=True):
        """Saves everything a resume needs, atomically; also as ``latest.pth``.

        Args:
            out_dir (str): folder of the checkpoint.
            filename_tmpl (str): name template, formatted with the frames done.
                Default: 'iter_{}.pth'.
            save_optimizer (bool): include the optimizer state. Default: True.
            meta (dict | None): extra metadata. Default: None.
            create_symlink (bool): also point ``latest.pth`` at it
                (:func:`~mmseg_ext.core.checkpoint.point_latest`). Default: True.
        """
        meta = dict(meta or {})
        if self.meta is not None:
            meta.update(self.meta)
        meta.update(epoch=self.position[0], iter=self.frames_done)
        checkpoint = dict(meta=meta,
                          state_dict=weights_to_cpu(self.method.state_dict()),
                          online=self._online_state())
        if save_optimizer and self.optimizer is not None:
            checkpoint['optimizer'] = self.optimizer.state_dict()
        filename = osp.join(out_dir, filename_tmpl.format(self.frames_done))
        atomic_save(checkpoint, filename)
        if create_symlink:
            point_latest(filename, osp.join(out_dir, 'latest.pth'))
        return filename

    def resume(self, checkpoint, resume_optimizer=True, map_location='cpu',
               trusted=False, check_config=True):
        """Loads a checkpoint of this runner; the stream continues at its frame.

        Args:
            checkpoint (str): path of a checkpoint written by :meth:`save_checkpoint`.
            resume_optimizer (bool): restore the optimizer. Default: True.
            map_location (str): Default: 'cpu'.
            trusted (bool): full unpickling (see ``mmseg_ext.core``). Default: False.
            check_config (bool): refuse a checkpoint of another ``config_hash``;
                False when the caller compared the configs itself
                (:func:`mmseg_ext.apis.workdir.check_resume_config`).
                Default: True.
        """
        ckpt = load_checkpoint_file(checkpoint, map_location, trusted)
        if 'online' not in ckpt:
            raise ValueError(f'{checkpoint} is not an OnlineRunner checkpoint (no '
                             f'`online` state); use load_from for model weights')
        mine = (self.meta or {}).get('config_hash')
        theirs = ckpt.get('meta', {}).get('config_hash')
        if check_config and mine is not None and theirs != mine:
            raise ValueError(f'cannot resume from {checkpoint}: it was written by '
                             f'another config (config_hash {theirs} != {mine})')
        self.method.load_state_dict(ckpt['state_dict'], strict=True)
        if resume_optimizer and 'optimizer' in ckpt and self.optimizer is not None:
            self.optimizer.load_state_dict(ckpt['optimizer'])
        self._resume_state = ckpt['online']
        self.position = tuple(ckpt['online']['position'])
        self.frames_done = int(ckpt['online']['frames_done'])
        self._iter = self.frames_done
        self._epoch = self.position[0]
        self.logger.info(f'resumed from {checkpoint} at visit {self.position[0]} '
                         f'frame {self.position[1]} ({self.frames_done} frames done)')

    def _restore(self, state):
        """Restores the stream state once the stream parts exist (in :meth:`run`)."""
        # checkpoints before the controller section kept its parts at the top level
        self.controller.load_state_dict(state.get('controller', state))
        self.stream_accuracy.load_state_dict(state['stream_accuracy'])
        self.visit_accuracy.load_state_dict(state['visit_accuracy'])
        self.timer.load_state_dict(state['timer'])
        self.nonfinite_skipped = int(state.get('nonfinite_skipped', 0))
        if state.get('replay') is not None:
            self.replay.load_state_dict(state['replay'])
        for hook in self.hooks:
            name = type(hook).__name__
            if name in state['hooks'] and callable(getattr(hook, 'load_state_dict', None)):
                hook.load_state_dict(state['hooks'][name])
        set_rng_state(state['rng'])

