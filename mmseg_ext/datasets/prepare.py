"""Preparing the real data sets from their unpacked downloads, with completeness checks.

One function per data set family; ``tools/data/{cityscapes,rain_cityscapes,
foggy_cityscapes,acdc}.py`` call them. Each makes what the loaders need and counts
what is there against the published counts, returning a :class:`PrepReport` whose
``missing`` lines name what is absent. Layouts (docs/datasets.md):

* Cityscapes (Cordts et al., CVPR 2016): ``leftImg8bit/{split}/<city>/*_leftImg8bit.png``,
  ``gtFine/{split}/<city>/*_gtFine_{polygons.json,labelIds.png}``. The train ids
  ``*_gtFine_labelTrainIds.png`` are made as cityscapesscripts'
  ``createTrainIdLabelImgs`` makes them (``json2labelImg(..., 'trainIds')`` on each
  polygon file), or from ``*_labelIds.png`` through the same label table when the
  polygons are absent; then DAFormer's rare-class statistics of ``gtFine/train``.
* Rainy Cityscapes (Halder et al., ICCV 2019; the OnDA / HAMLET storm): its own
  tree ``leftImg8bit/{split}/rain/{R}mm/rainy_image/<city>/*_leftImg8bit.png``
  without labels; the loaders read the labels from the Cityscapes root.
* Foggy Cityscapes (Sakaridis et al., IJCV 2018): its own tree
  ``leftImg8bit_foggy/{split}/<city>/*_leftImg8bit_foggy_beta_{b}.png``, labels
  from the Cityscapes root.
* ACDC (Sakaridis et al., ICCV 2021): ``rgb_anon/{cond}/{split}/<seq>/*_rgb_anon.png``,
  ``gt/{cond}/{split}/<seq>/*_gt_labelTrainIds.png`` (shipped).
"""
import os
import os.path as osp
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    'CITYSCAPES_COUNTS', 'RAIN_RATES', 'FOGGY_BETAS', 'ACDC_COUNTS', 'PrepReport',
    'label_id_to_train_id', 'make_cityscapes_train_ids', 'prepare_cityscapes',
    'prepare_rain_cityscapes', 'prepare_foggy_cityscapes', 'prepare_acdc', 'report_and_exit_code',
    'prep_arg_parser', 'expected_from_args',
]

#: Published Cityscapes fine split sizes (images; ``test`` has no public labels).
CITYSCAPES_COUNTS = {'train': 2975, 'val': 500, 'test': 1525}
#: Rain rates (mm/h) of the increasing storm (OnDA / HAMLET).
RAIN_RATES = (25, 50, 75, 100, 200)
#: Attenuation coefficients of the published Foggy Cityscapes (600, 300, 150 m).
FOGGY_BETAS = (0.005, 0.01, 0.02)
#: ACDC images per condition and split (4006 in all; ``test`` without labels).
ACDC_COUNTS = {cond: {'train': 400, 'val': 106 if cond == 'night' else 100, 'test': 500}
               for cond in ('fog', 'night', 'rain', 'snow')}
_SHOW = 10  # missing files listed by name per set


@dataclass
class PrepReport:
    """What a preparation found.

    Attributes:
        root (str): The root the loaders should use (``--cfg-options <key>=root``).
        root_key (str): The config key of that root.
        counts (dict[str, int]): Files found per checked set.
        missing (list[str]): One line per incomplete set or missing file.
        written (int): Files written (train ids, statistics).
    """
    root: str
    root_key: str
    counts: dict = field(default_factory=dict)
    missing: list = field(default_factory=list)
    written: int = 0

    @property
    def complete(self):
        return not self.missing

    def lines(self):
        """Printable summary: the counts, what is missing, the config option."""
        out = [f'{key}: {n}' for key, n in self.counts.items()]
        out += [f'MISSING {line}' for line in self.missing]
        out.append(f'{"complete" if self.complete else "INCOMPLETE"}; use '
                   f'--cfg-options {self.root_key}={self.root}')
        return out

    def expect(self, key, found, expected):
        """Records ``found`` for ``key`` and a missing line if below ``expected``."""
        self.counts[key] = found
        if expected is not None and found < expected:
            self.missing.append(f'{key}: {found} of the published {expected} '
                                f'({expected - found} missing)')

    def missing_files(self, what, paths):
        """Lists up to ten missing files of ``what`` and how many there are."""
        if paths:
            shown = ', '.join(paths[:_SHOW]) + (' ...' if len(paths) > _SHOW else '')
            self.missing.append(f'{len(paths)} {what}: {shown}')


def _scan(directory, suffix):
    """Sorted paths (relative to ``directory``) of the files ending in ``suffix``."""
    found = []
    for base, dirs, files in os.walk(directory):
        dirs.sort()
        found += [osp.relpath(osp.join(base, f), directory) for f in sorted(files)
                  if f.endswith(suffix)]
    return found


def _need_dir(path, what, hint):
    if not osp.isdir(path):
        raise FileNotFoundError(f'{what}: directory {path} does not exist; {hint}')


def label_id_to_train_id():
    """uint8 lookup table label id -> trainId from cityscapesscripts' label table."""
    from cityscapesscripts.helpers.labels import id2label
    lut = np.full(256, 255, np.uint8)
    for label_id, label in id2label.items():
        if 0 <= label_id < 256 and 0 <= label.trainId < 255:
            lut[label_id] = label.trainId
    return lut


def _convert_one(job):
    """One ``*_labelTrainIds.png`` from the polygons (preferred) or the label ids."""
    from PIL import Image
    polygons, label_ids, dst = job
    if polygons is not None:
        from cityscapesscripts.preparation.json2labelImg import json2labelImg
        json2labelImg(polygons, dst, 'trainIds')
    else:
        with Image.open(label_ids) as im:
            ids = np.asarray(im)
        Image.fromarray(label_id_to_train_id()[ids]).save(dst)
    return dst


def make_cityscapes_train_ids(gt_dir, overwrite=False, workers=1):
    """Writes ``*_gtFine_labelTrainIds.png`` next to each label of ``gt_dir``.

    cityscapesscripts' ``createTrainIdLabelImgs`` on one directory: each
    ``*_gtFine_polygons.json`` goes through ``json2labelImg(..., 'trainIds')``; a
    label without polygons is mapped from its ``*_gtFine_labelIds.png`` by the same
    label table.

    Args:
        gt_dir (str): e.g. ``<root>/gtFine/train``.
        overwrite (bool): Redo existing train-id files. Default: False.
        workers (int): Processes. Default: 1.

    Returns:
        tuple[int, list[str]]: files written, and label ids with neither polygons
        nor a label-id image (relative paths of the expected train-id files).
    """
    jobs, unlabelled = [], []
    stems = {p[:-len('_gtFine_labelIds.png')] for p in _scan(gt_dir, '_gtFine_labelIds.png')}
    stems |= {p[:-len('_gtFine_polygons.json')] for p in _scan(gt_dir, '_gtFine_polygons.json')}
    for stem in sorted(stems):
        dst = osp.join(gt_dir, f'{stem}_gtFine_labelTrainIds.png')
        if osp.isfile(dst) and not overwrite:
            continue
        polygons = osp.join(gt_dir, f'{stem}_gtFine_polygons.json')
        label_ids = osp.join(gt_dir, f'{stem}_gtFine_labelIds.png')
        if not osp.isfile(polygons) and not osp.isfile(label_ids):
            unlabelled.append(osp.relpath(dst, gt_dir))
            continue
        jobs.append((polygons if osp.isfile(polygons) else None, label_ids, dst))
    if workers > 1 and len(jobs) > 1:
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(_convert_one, jobs, chunksize=16))
    else:
        for job in jobs:
            _convert_one(job)
    return len(jobs), unlabelled


def _image_stems(img_dir, img_suffix, exclude=('rain',)):
    """Image paths relative to ``img_dir`` without ``img_suffix`` (``exclude``: top
    folders not scanned, e.g. linked rain copies)."""
    return [p[:-len(img_suffix)] for p in _scan(img_dir, img_suffix)
            if p.split(os.sep)[0] not in exclude]


def _labels_of(report, key, stems, gt_dir):
    """Records the train-id labels in ``gt_dir`` of the images ``stems``."""
    missing = [f'{osp.join(gt_dir, s)}_gtFine_labelTrainIds.png' for s in stems
               if not osp.isfile(osp.join(gt_dir, f'{s}_gtFine_labelTrainIds.png'))]
    report.counts[f'{key} labels'] = len(stems) - len(missing)
    report.missing_files(f'{key} images without a train-id label', missing)


def prepare_cityscapes(root, splits=('train', 'val'), expected=CITYSCAPES_COUNTS,
                       overwrite=False, class_stats=True, workers=1):
    """Makes Cityscapes' train ids and rare-class statistics; checks completeness.

    Args:
        root (str): The unpacked ``leftImg8bit_trainvaltest.zip`` + ``gtFine_trainvaltest.zip``.
        splits (Sequence[str]): Splits to prepare. Default: ('train', 'val').
        expected (dict | None): Images per split to expect; None checks nothing.
            Default: :data:`CITYSCAPES_COUNTS`.
        overwrite (bool): Redo existing train-id files. Default: False.
        class_stats (bool): Write ``sample_class_stats.json`` / ``samples_with_class.json``
            of ``gtFine/train`` into ``root`` (read by ``SourceDataset``'s RCS).
            Default: True.
        workers (int): Processes. Default: 1.

    Returns:
        PrepReport: counts and what is missing (``root_key='cityscapes_root'``).
    """
    hint = 'unpack leftImg8bit_trainvaltest.zip and gtFine_trainvaltest.zip into it'
    report = PrepReport(root=root, root_key='cityscapes_root')
    for split in splits:
        img_dir = osp.join(root, 'leftImg8bit', split)
        gt_dir = osp.join(root, 'gtFine', split)
        _need_dir(img_dir, f'Cityscapes {split} images', hint)
        _need_dir(gt_dir, f'Cityscapes {split} labels', hint)
        written, _ = make_cityscapes_train_ids(gt_dir, overwrite, workers)
        report.written += written
        stems = _image_stems(img_dir, '_leftImg8bit.png')
        report.expect(f'cityscapes {split} images', len(stems),
                      None if expected is None else expected.get(split))
        _labels_of(report, f'cityscapes {split}', stems, gt_dir)
    if class_stats and 'train' in splits:
        from .rare_class_sampling import compute_class_stats, write_class_stats
        stats = compute_class_stats(root, osp.join('gtFine', 'train'), workers=workers)
        write_class_stats(root, stats)
        report.written += 2
    return report


def _find_tree(root, marker, nested):
    """``root``, or the folder under it the download nests the tree in."""
    if osp.isdir(osp.join(root, marker)):
        return root
    for sub in nested:
        if osp.isdir(osp.join(root, sub, marker)):
            return osp.join(root, sub)
    return root


def _weather_set(report, key, img_dir, img_suffix, cityscapes_root, split, expected):
    """Counts one weather set and checks each image has its Cityscapes label."""
    if not osp.isdir(img_dir):
        report.counts[f'{key} images'] = 0
        report.missing.append(f'{key}: directory {img_dir} does not exist')
        return
    stems = _image_stems(img_dir, img_suffix, exclude=())
    report.expect(f'{key} images', len(stems), expected)
    if cityscapes_root is not None:
        _labels_of(report, key, stems, osp.join(cityscapes_root, 'gtFine', split))


def prepare_rain_cityscapes(root, cityscapes_root=None, rates=RAIN_RATES,
                            splits=('train', 'val'), expected=CITYSCAPES_COUNTS):
    """Checks the rainy Cityscapes tree (every rate and split, labels in Cityscapes).

    The Inria weather-augment archive may unpack as ``weather_datasets/
    weather_cityscapes/leftImg8bit/...``; the returned root is the folder holding
    ``leftImg8bit``. Nothing is linked or copied: the rain datasets read images from
    ``rain_cityscapes_root`` and labels from ``cityscapes_root``.

    Args:
        root (str): The unpacked download.
        cityscapes_root (str | None): Prepared Cityscapes (labels); None skips the
            label check. Default: None.
        rates (Sequence[float]): Rain rates in mm/h. Default: :data:`RAIN_RATES`.
        splits (Sequence[str]): Default: ('train', 'val').
        expected (dict | None): Images per split and rate; None checks nothing.
            Default: :data:`CITYSCAPES_COUNTS`.

    Returns:
        PrepReport: ``root_key='rain_cityscapes_root'``.
    """
    from .synth.writers import rain_dir
    root = _find_tree(root, 'leftImg8bit', ('weather_cityscapes',
                                             osp.join('weather_datasets', 'weather_cityscapes')))
    _need_dir(osp.join(root, 'leftImg8bit'), 'rainy Cityscapes',
              'unpack the weather-augmented Cityscapes download (leftImg8bit/{split}/rain/'
              '{R}mm/rainy_image/<city>/...) there')
    report = PrepReport(root=root, root_key='rain_cityscapes_root')
    for split in splits:
        for rate in rates:
            _weather_set(report, f'rain {rate:g}mm {split}', osp.join(root, rain_dir(split, rate)),
                         '_leftImg8bit.png', cityscapes_root, split,
                         None if expected is None else expected.get(split))
    return report


def prepare_foggy_cityscapes(root, cityscapes_root=None, betas=FOGGY_BETAS,
                             splits=('train', 'val'), expected=CITYSCAPES_COUNTS):
    """Checks the Foggy Cityscapes tree (every beta and split, labels in Cityscapes).

    Args:
        root (str): The unpacked ``leftImg8bit_trainvaltest_foggy.zip``.
        cityscapes_root (str | None): Prepared Cityscapes (labels); None skips the
            label check. Default: None.
        betas (Sequence[float]): Attenuation coefficients. Default: :data:`FOGGY_BETAS`.
        splits (Sequence[str]): Default: ('train', 'val').
        expected (dict | None): Images per split and beta; None checks nothing.
            Default: :data:`CITYSCAPES_COUNTS`.

    Returns:
        PrepReport: ``root_key='foggy_cityscapes_root'``.
    """
    _need_dir(osp.join(root, 'leftImg8bit_foggy'), 'Foggy Cityscapes',
              'unpack leftImg8bit_trainvaltest_foggy.zip there')
    report = PrepReport(root=root, root_key='foggy_cityscapes_root')
    for split in splits:
        for beta in betas:
            _weather_set(report, f'foggy beta {beta:g} {split}',
                         osp.join(root, 'leftImg8bit_foggy', split),
                         f'_leftImg8bit_foggy_beta_{beta:g}.png', cityscapes_root, split,
                         None if expected is None else expected.get(split))
    return report


def prepare_acdc(root, conditions=tuple(ACDC_COUNTS), splits=('train', 'val', 'test'),
                 expected=ACDC_COUNTS):
    """Checks ACDC (images per condition and split, a train-id label per image).

    ACDC ships ``*_gt_labelTrainIds.png``; a label present only as
    ``*_gt_labelIds.png`` is converted through cityscapesscripts' label table.

    Args:
        root (str): The unpacked ``rgb_anon_trainvaltest.zip`` + ``gt_trainval.zip``.
        conditions (Sequence[str]): Default: fog, night, rain, snow.
        splits (Sequence[str]): Default: ('train', 'val', 'test').
        expected (dict | None): ``{cond: {split: n}}``; None checks nothing.
            Default: :data:`ACDC_COUNTS`.

    Returns:
        PrepReport: ``root_key='acdc_root'``.
    """
    from PIL import Image
    hint = 'unpack rgb_anon_trainvaltest.zip and gt_trainval.zip into it'
    report = PrepReport(root=root, root_key='acdc_root')
    lut = label_id_to_train_id()
    for cond in conditions:
        for split in splits:
            img_dir = osp.join(root, 'rgb_anon', cond, split)
            _need_dir(img_dir, f'ACDC {cond} {split} images', hint)
            stems = _image_stems(img_dir, '_rgb_anon.png', exclude=())
            key = f'acdc {cond} {split}'
            report.expect(f'{key} images', len(stems),
                          None if expected is None else expected.get(cond, {}).get(split))
            if split == 'test':
                continue
            gt_dir = osp.join(root, 'gt', cond, split)
            missing = []
            for stem in stems:
                dst = osp.join(gt_dir, f'{stem}_gt_labelTrainIds.png')
                ids = osp.join(gt_dir, f'{stem}_gt_labelIds.png')
                if not osp.isfile(dst) and osp.isfile(ids):
                    with Image.open(ids) as im:
                        Image.fromarray(lut[np.asarray(im)]).save(dst)
                    report.written += 1
                if not osp.isfile(dst):
                    missing.append(dst)
            report.counts[f'{key} labels'] = len(stems) - len(missing)
            report.missing_files(f'{key} images without a label', missing)
    return report


def report_and_exit_code(report, stream=None):
    """Prints ``report.lines()``; returns 0 when complete, 1 when something is missing."""
    import sys
    for line in report.lines():
        print(line, file=stream or sys.stdout)
    return 0 if report.complete else 1


def prep_arg_parser(description, root_help, splits=('train', 'val'), label_check=False):
    """The arguments every ``tools/data/<family>.py`` shares.

    Args:
        description (str): The tool's one-line description.
        root_help (str): What the positional ``root`` is.
        splits (Sequence[str]): Default of ``--splits``.
        label_check (bool): Add ``--cityscapes`` (the labels of a weather set).

    Returns:
        argparse.ArgumentParser
    """
    import argparse
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('root', help=root_help)
    if label_check:
        parser.add_argument('--cityscapes', default=None,
                            help='prepared Cityscapes root (labels); omitted: not checked')
    parser.add_argument('--splits', nargs='+', default=list(splits))
    parser.add_argument('--expect-counts', choices=['published', 'none'], default='published',
                        help="'none' skips the count check (small subsets)")
    return parser


def expected_from_args(args, published):
    """``published`` unless ``--expect-counts none``."""
    return published if args.expect_counts == 'published' else None
