"""Source-domain dataset for replay during online adaptation, with rare-class sampling."""
import os.path as osp

import numpy as np
from mmseg.datasets import DATASETS, build_dataset

from .rare_class_sampling import load_class_stats, rcs_class_probs


@DATASETS.register_module()
class SourceDataset:
    """Serves labelled source samples; optionally with rare-class sampling (RCS).

    RCS (DAFormer, Hoyer et al., CVPR 2022): draw a class ``c`` with probability
    ``softmax((1 - f_c) / T)`` over the source pixel frequencies ``f_c``, then a
    sample holding more than ``min_pixels`` pixels of ``c``; its random crop is
    redrawn (up to 10 times) until it keeps more than ``min_pixels *
    min_crop_ratio`` of them. With RCS on, the index is ignored and the draws come
    from the dataset's own seeded generator, whose state :meth:`state_dict` /
    :meth:`load_state_dict` carry so a resumed run continues the same sequence
    (single-process loading, ``workers_per_gpu=0``). With RCS off, ``ds[i]`` is
    sample ``i`` of the wrapped dataset.

    Args:
        dataset (dict): Config of the wrapped source dataset (train pipeline).
        rare_class_sampling (dict | None): None turns RCS off; otherwise a dict with
            ``class_temp`` (T, default 0.01), ``min_pixels`` (default 3000, DAFormer's
            value at 1024x2048; scale it with the label resolution),
            ``min_crop_ratio`` (default 0.5) and ``stats_dir`` (where
            ``sample_class_stats.json`` is; default the wrapped ``data_root``).
            Default: None.
        seed (int): Seed of the RCS draws. Default: 0.
        name (str | None): Domain name; the wrapped dataset's when None. Default: None.
        domain (float | None): Domain value; the wrapped dataset's (or 0) when None.
            Default: None.
    """

    _RCS_KEYS = {'class_temp': 0.01, 'min_pixels': 3000, 'min_crop_ratio': 0.5,
                 'stats_dir': None}
    _CROP_TRIALS = 10

    def __init__(self, dataset, rare_class_sampling=None, seed=0, name=None, domain=None):
        self.dataset = build_dataset(dataset) if isinstance(dataset, dict) else dataset
        self.CLASSES = self.dataset.CLASSES
        self.PALETTE = self.dataset.PALETTE
        self.ignore_index = getattr(self.dataset, 'ignore_index', 255)
        self.name = getattr(self.dataset, 'name', 'source') if name is None else name
        self.domain = getattr(self.dataset, 'domain', 0) if domain is None else domain
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        self.rcs = None
        if rare_class_sampling is not None:
            self._init_rcs(dict(rare_class_sampling))

    def _init_rcs(self, cfg):
        unknown = set(cfg) - set(self._RCS_KEYS)
        if unknown:
            raise ValueError(f'SourceDataset: unknown rare_class_sampling keys '
                           f'{sorted(unknown)}; expected {sorted(self._RCS_KEYS)}')
        cfg = {**self._RCS_KEYS, **cfg}
        ds = self.dataset
        ann_dir = getattr(ds, 'ann_dir', None)
        if ann_dir is None:
            raise ValueError('SourceDataset: rare-class sampling needs a labelled '
                             'dataset (ann_dir is None)')
        stats_dir = cfg['stats_dir'] or getattr(ds, 'data_root', None) or ann_dir
        stats = load_class_stats(stats_dir)
        file_to_idx = {
            osp.normpath(osp.relpath(osp.join(ann_dir, info['ann']['seg_map']), stats_dir)): i
            for i, info in enumerate(ds.img_infos)}
        min_pixels = cfg['min_pixels']
        with_class = {}
        for entry in stats:
            idx = file_to_idx.get(osp.normpath(entry['file']))
            if idx is None:
                continue
            for key, n in entry.items():
                if key != 'file' and n > min_pixels:
                    with_class.setdefault(int(key), []).append(idx)
        if not with_class:
            raise ValueError(
                f'SourceDataset: no sample of {stats_dir} holds more than {min_pixels} '
                f'pixels of a class (or the stats files match no file of {ann_dir}); '
                f'lower rare_class_sampling.min_pixels or rewrite the stats')
        classes, probs = rcs_class_probs(stats, cfg['class_temp'])
        keep = [k for k, c in enumerate(classes) if c in with_class]
        self.rcs = cfg
        self.rcs_classes = [classes[k] for k in keep]
        self.rcs_classprob = probs[keep] / probs[keep].sum()
        self.samples_with_class = {c: sorted(with_class[c]) for c in self.rcs_classes}

    def __len__(self):
        return len(self.dataset)

    def rare_class_index(self):
        """tuple[int, int]: a class drawn by RCS and the index of a sample holding it."""
        c = self.rcs_classes[self.rng.choice(len(self.rcs_classes), p=self.rcs_classprob)]
        candidates = self.samples_with_class[c]
        return c, candidates[self.rng.integers(len(candidates))]

    def __getitem__(self, idx):
        if self.rcs is None:
            return self.dataset[idx]
        c, i = self.rare_class_index()
        sample = self.dataset[i]
        threshold = self.rcs['min_pixels'] * self.rcs['min_crop_ratio']
        if self.rcs['min_crop_ratio'] > 0:
            for _ in range(self._CROP_TRIALS):
                if int((sample['gt_semantic_seg'].data == c).sum()) > threshold:
                    break
                sample = self.dataset[i]
        return sample

    def state_dict(self):
        """dict: the state of the RCS generator."""
        return dict(seed=self.seed, rng=self.rng.bit_generator.state)

    def load_state_dict(self, state):
        """Restores a state from :meth:`state_dict`."""
        self.rng.bit_generator.state = state['rng']
