"""Cityscapes-layout dataset of one domain, validated when it is built."""
import os.path as osp

import numpy as np
from mmcv.utils import print_log
from mmseg.datasets import DATASETS, CityscapesDataset
from mmseg.utils import get_root_logger
from PIL import Image

from .checks import check_label_size

_VALIDATE = ('full', 'labels', 'exists')


@DATASETS.register_module()
class CityscapesDomainDataset(CityscapesDataset):
    """mmseg's Cityscapes dataset (Cordts et al., CVPR 2016) as one domain of a stream.

    Adds the ``name``/``domain`` every domain dataset carries (docs/interfaces.md)
    and checks the tree when it is built: a missing root or image directory, an
    empty split, an image without its label, an unreadable image or label and a
    label value outside ``0..len(CLASSES)-1`` / ``ignore_index`` raise an error that
    names the file, before any training starts; with ``validate`` other than
    ``'exists'`` every label must also have its image's size (headers only).

    Args:
        name (str): Domain name logged by the online runner. Default: 'cityscapes'.
        domain (float): Numeric domain value (0 for clear weather). Default: 0.
        exclude_dirs (Sequence[str]): First-level subdirectories of ``img_dir``
            that are not scanned: the weather-augmented Cityscapes keeps its rainy
            copies under ``leftImg8bit/{split}/rain``, with the clear file names.
            Default: ('rain',).
        validate (str): ``'full'`` reads every label (values) and image header,
            ``'labels'`` reads every label, ``'exists'`` only checks that every
            image has its label file (for large sets). Default: 'full'.
        **kwargs: mmseg ``CityscapesDataset``/``CustomDataset`` arguments
            (``pipeline``, ``img_dir``, ``ann_dir``, ``data_root``, ``test_mode``...).
    """

    def __init__(self, name='cityscapes', domain=0, exclude_dirs=('rain',),
                 validate='full', **kwargs):
        if validate not in _VALIDATE:
            raise ValueError(f'{type(self).__name__} {name!r}: validate must be one of '
                             f'{_VALIDATE}, got {validate!r}')
        if not isinstance(name, str) or not name:
            raise TypeError(f'{type(self).__name__}: name must be a non-empty str, '
                            f'got {name!r}')
        if isinstance(domain, bool) or not isinstance(domain, (int, float)):
            raise TypeError(f'{type(self).__name__} {name!r}: domain must be a number, '
                            f'got {domain!r}')
        self.name = name
        self.domain = domain
        self.exclude_dirs = tuple(exclude_dirs)
        self.validate = validate
        data_root = kwargs.get('data_root')
        if data_root is not None and not osp.isdir(data_root):
            raise FileNotFoundError(f'{type(self).__name__} {name!r}: data root '
                                    f'{data_root} does not exist (set data_root in the '
                                    f'config or --cfg-options data_root=...)')
        super().__init__(**kwargs)

    def _error(self, msg):
        return f'{type(self).__name__} {self.name!r}: {msg}'

    def load_annotations(self, img_dir, img_suffix, ann_dir, seg_map_suffix, split):
        """mmseg's directory scan without ``exclude_dirs``, then the checks above."""
        if not osp.isdir(img_dir):
            raise FileNotFoundError(self._error(f'image directory {img_dir} does not exist'))
        if ann_dir is not None and not osp.isdir(ann_dir):
            raise FileNotFoundError(self._error(f'label directory {ann_dir} does not exist'))
        if split is not None and not osp.isfile(split):
            raise FileNotFoundError(self._error(f'split file {split} does not exist'))
        scanned = super().load_annotations(img_dir, img_suffix, ann_dir, seg_map_suffix, split)
        infos = [info for info in scanned
                 if info['filename'].replace('\\', '/').split('/')[0] not in self.exclude_dirs]
        if len(infos) < len(scanned):
            print_log(f'{type(self).__name__} {self.name!r}: kept {len(infos)} images, '
                      f'skipped {len(scanned) - len(infos)} under {list(self.exclude_dirs)}',
                      logger=get_root_logger())
        if not infos:
            raise FileNotFoundError(self._error(f'no images *{img_suffix} under {img_dir}'))
        self._check(infos, img_dir, ann_dir)
        return infos

    def _label_hint(self, seg_path):
        """How to make a missing Cityscapes train-id label, when its sources are there."""
        suffix = '_gtFine_labelTrainIds.png'
        if not seg_path.endswith(suffix):
            return ''
        stem = seg_path[:-len(suffix)]
        if osp.isfile(f'{stem}_gtFine_labelIds.png') or osp.isfile(f'{stem}_gtFine_polygons.json'):
            root = osp.dirname(osp.dirname(osp.dirname(osp.dirname(seg_path))))
            return (f' (Cityscapes ships label ids; make the train ids with '
                    f'`python tools/data/cityscapes.py {root}`, cityscapesscripts\' '
                    f'createTrainIdLabelImgs)')
        return ''

    def _check(self, infos, img_dir, ann_dir):
        num_classes = len(self.CLASSES)
        for info in infos:
            img_path = osp.join(img_dir, info['filename'])
            if not osp.isfile(img_path):
                raise FileNotFoundError(self._error(f'image {img_path} does not exist'))
            if self.validate == 'full':
                try:
                    with Image.open(img_path) as im:
                        im.verify()
                except Exception as err:
                    raise IOError(self._error(f'unreadable image {img_path}: {err}')) from None
            if ann_dir is None:
                continue
            seg_path = osp.join(ann_dir, info['ann']['seg_map'])
            if not osp.isfile(seg_path):
                raise FileNotFoundError(self._error(
                    f'image {img_path} has no label: {seg_path} does not exist'
                    f'{self._label_hint(seg_path)}'))
            if self.validate == 'exists':
                continue
            check_label_size(img_path, seg_path, self._error(''))
            try:
                with Image.open(seg_path) as im:
                    seg = np.asarray(im)
            except Exception as err:
                raise IOError(self._error(f'unreadable label {seg_path}: {err}')) from None
            values = np.unique(seg)
            bad = values[(values >= num_classes) & (values != self.ignore_index)]
            if bad.size:
                raise ValueError(self._error(
                    f'label {seg_path} has values {bad.tolist()} outside '
                    f'0..{num_classes - 1}/{self.ignore_index}; expected trainIds '
                    f'(*_labelTrainIds.png), not label ids'))
