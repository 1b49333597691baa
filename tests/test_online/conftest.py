"""Tiny stand-ins for the online runner's collaborators (CPU, 16x32 images).

* ``TinyDomainDataset``: a domain of a synthetic stream (``name``, ``domain``);
  train mode gives mmseg's train-pipeline sample (with a random flip, to exercise
  the random state), test mode the test-pipeline sample, plus ``pre_eval``.
* ``TinySourceDataset``: the same as a ``SourceDataset`` (the runner's source).
* ``TinyMethod``: implements the method contract of docs/interfaces.md
  (``train_step``, ``online_inference``, mmseg's test forward, ``needs_source``)
  on a two-layer conv segmentor; its step uses the global random state.
"""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.parallel import DataContainer as DC
from mmseg.core.evaluation.metrics import intersect_and_union
from mmseg.datasets import DATASETS

from mmseg_ext.models import UDA

H, W, NC = 16, 32, 4
DOMAINS = (('clear', 0), ('25mm', 25), ('50mm', 50))


class TinyDomainDataset:
    """Stripes of 4 classes; the domain value darkens and noises the image."""

    CLASSES = ('road', 'car', 'sky', 'tree')
    PALETTE = [[128, 64, 128], [0, 0, 142], [70, 130, 180], [107, 142, 35]]

    def __init__(self, name='clear', domain=0, n=4, test_mode=False, seed=0):
        self.name, self.domain, self.test_mode = name, domain, test_mode
        rng = np.random.default_rng(seed + int(domain))
        self.labels, self.imgs = [], []
        colours = np.array([[.5, .2, .5], [.0, .0, .6], [.3, .5, .7], [.4, .6, .1]])
        for _ in range(n):
            cuts = np.sort(rng.integers(2, W - 2, NC - 1))
            label = np.searchsorted(cuts, np.arange(W), side='right')
            label = np.repeat(label[None], H, 0).astype(np.int64)
            label[:2, :3] = 255
            img = colours[label.clip(0, NC - 1)].transpose(2, 0, 1)
            img = img * (1 - domain / 100.0) + rng.normal(0, 0.05 + domain / 200.0,
                                                          img.shape)
            self.labels.append(label)
            self.imgs.append(torch.tensor(img, dtype=torch.float32))

    def __len__(self):
        return len(self.imgs)

    def _meta(self, i, flip=False):
        return dict(filename=f'{self.name}_{i}.png', ori_filename=f'{self.name}_{i}.png',
                    ori_shape=(H, W, 3), img_shape=(H, W, 3), pad_shape=(H, W, 3),
                    scale_factor=1.0, flip=flip, flip_direction='horizontal',
                    img_norm_cfg=dict(mean=np.zeros(3, np.float32),
                                      std=np.ones(3, np.float32), to_rgb=False))

    def __getitem__(self, i):
        img, label = self.imgs[i], torch.from_numpy(self.labels[i])
        if self.test_mode:
            return dict(img=[img], img_metas=[DC(self._meta(i), cpu_only=True)])
        flip = bool(np.random.rand() < 0.5)
        if flip:
            img, label = img.flip(-1), label.flip(-1)
        return dict(img=DC(img, stack=True), img_metas=DC(self._meta(i, flip), cpu_only=True),
                    gt_semantic_seg=DC(label[None], stack=True))

    def pre_eval(self, preds, indices):
        return [intersect_and_union(p, self.labels[i], NC, 255, label_map=dict(),
                                    reduce_zero_label=False)
                for p, i in zip(preds, indices)]


class SourceDataset(TinyDomainDataset):
    """Named like the project's source wrapper; keeps a draw counter as state."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.draws = 0

    def __getitem__(self, i):
        self.draws += 1
        return super().__getitem__(i)

    def state_dict(self):
        return dict(draws=self.draws)

    def load_state_dict(self, state):
        self.draws = state['draws']


class TinySegmentor(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, NC, 1)

    def encode_decode(self, img, img_metas):
        return self.conv2(F.relu(self.conv1(img)))


class TinyMethod(nn.Module):
    """Source CE + target entropy + input noise (uses the global random state)."""

    needs_source = True

    def __init__(self, model=None, entropy_weight=0.5):
        super().__init__()
        self.model = TinySegmentor()
        self.entropy_weight = entropy_weight
        self.register_buffer('local_iter', torch.zeros((), dtype=torch.long))
        self.modules_seen = []
        self.mix_ratios = []

    def get_model(self):
        return self.model

    def init_weights(self):
        pass

    def forward(self, img, img_metas, return_loss=True, rescale=True, **kwargs):
        logits = self.model.encode_decode(img[0], img_metas[0])
        return list(logits.argmax(1).cpu().numpy())

    def online_inference(self, img, img_metas):
        probs = self.model.encode_decode(img, img_metas).softmax(1)
        ent = -(probs * probs.clamp_min(1e-12).log()).sum(1)
        return dict(pred=probs.argmax(1), entropy=ent.flatten(1).mean(1))

    def train_step(self, data_batch, optimizer, inference=None, train_from_module=None,
                   mix_ratio=None):
        self.modules_seen.append(train_from_module)
        self.mix_ratios.append(mix_ratio)
        optimizer.zero_grad()
        noise = torch.randn_like(data_batch['img']) * 0.01
        src = self.model.encode_decode(data_batch['img'] + noise, None)
        loss_src = F.cross_entropy(src, data_batch['gt_semantic_seg'][:, 0], ignore_index=255)
        tgt = self.model.encode_decode(data_batch['target_img'], None).softmax(1)
        loss_ent = -(tgt * tgt.clamp_min(1e-12).log()).sum(1).mean()
        (loss_src + self.entropy_weight * loss_ent).backward()
        optimizer.step()
        self.local_iter += 1
        log_vars = dict(loss_src=float(loss_src.detach()), loss_ent=float(loss_ent.detach()))
        return dict(log_vars=log_vars, num_samples=len(data_batch['target_img']),
                    policy_loss=sum(log_vars.values()))


for _name, _cls in (('TinyDomainDataset', TinyDomainDataset),
                    ('TinySourceDataset', SourceDataset)):
    if _name not in DATASETS.module_dict:
        DATASETS.register_module(name=_name, module=_cls)
if 'TinyMethod' not in UDA.module_dict:
    UDA.register_module(name='TinyMethod', module=TinyMethod)


def tiny_cfg(work_dir, **runner):
    """An online config dict over the tiny stream (clear, 25mm, 50mm, clear)."""
    from mmcv import Config
    targets = [dict(type='TinyDomainDataset', name=n, domain=d) for n, d in DOMAINS]
    val = [dict(type='TinyDomainDataset', name=n, domain=d, n=2, seed=7)
           for n, d in DOMAINS]
    runner_cfg = dict(type='OnlineRunner', domain_order=['clear', '25mm', '50mm', 'clear'],
                      frames_per_domain=3, num_classes=NC, replay_buffer_size=2)
    runner_cfg.update(runner)
    return Config(dict(
        work_dir=str(work_dir), seed=0,
        model=dict(type='TinySegmentor'), uda=dict(type='TinyMethod'),
        data=dict(samples_per_gpu=1, workers_per_gpu=0,
                  train=[dict(type='SourceDataset', dataset=dict(type='TinySourceDataset'),
                               name='source')] + targets,
                  val=val),
        optimizer=dict(type='SGD', lr=0.05, momentum=0.9),
        runner=runner_cfg,
        online_evaluation=dict(eval_domains='all'),
        log_config=dict(interval=2, hooks=[dict(type='TextLoggerHook', by_epoch=False)]),
        checkpoint_config=None))


@pytest.fixture
def tiny():
    """The tiny stand-ins, by name."""
    return dict(TinyDomainDataset=TinyDomainDataset, SourceDataset=SourceDataset,
                TinyMethod=TinyMethod, cfg=tiny_cfg, NC=NC, H=H, W=W)
