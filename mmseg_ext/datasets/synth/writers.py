"""Writers of ProcCity and of the weather sets in the published dataset layouts.

Clear set (Cityscapes layout)::

    OUT/leftImg8bit/{split}/<city>/<name>_leftImg8bit.png        RGB
    OUT/gtFine/{split}/<city>/<name>_gtFine_labelTrainIds.png    trainIds, 255 = ignore
    OUT/depth/{split}/<city>/<name>_depth.png                    uint16 depth in centimetres
                                                                 (65535 = sky / beyond 655 m)
    OUT/camera/{split}/<city>/<name>_camera.json                 Cityscapes camera file
                                                                 (intrinsic fx fy u0 v0,
                                                                 extrinsic z = height)

Weather sets, next to the clear one and sharing its labels::

    OUT/leftImg8bit/{split}/rain/{R}mm/rainy_image/<city>/<name>_leftImg8bit.png
    OUT/leftImg8bit_foggy/{split}/<city>/<name>_leftImg8bit_foggy_beta_{beta}.png
    OUT/leftImg8bit_{condition}/{split}/s{S}/<city>/<name>_leftImg8bit.png
        condition in night, wet, snow, lensdrops, motionblur; severity S in 1..5

The weather writer works on any tree in this layout with depth, so real
Cityscapes works too once its depth (e.g. from disparity: ``Z = B f / d``) is
stored under ``depth/`` as above.
"""
import json
import os
import os.path as osp
import zlib
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import numpy as np

from ...core.fileio import atomic_write

__all__ = [
    'CITIES', 'DEPTH_SCALE', 'DEPTH_SKY', 'save_depth', 'load_depth', 'write_proccity',
    'write_weather', 'rain_dir', 'foggy_name', 'condition_dir', 'camera_path',
]

#: Cities of ProcCity per split (images are spread round-robin over them).
CITIES = {'train': ('alderbrook', 'bramfield', 'corwen'), 'val': ('dunmore',),
          'test': ('eastwick',)}
#: Depth PNGs store centimetres.
DEPTH_SCALE = 100.0
#: uint16 code for sky or anything beyond 655.34 m.
DEPTH_SKY = 65535
_SPLIT_CODE = {'train': 1, 'val': 2, 'test': 3}
#: Version of the renderers in ``proccity.json`` (2: shared camera files, conditions,
#: richer scenes); a cached tree of another version must be rendered again.
RENDER_VERSION = 2
#: Version of the weather renderers (:func:`write_weather`; 2: rain over the road wet
#: as its rate makes it; 3: motion blur 4 and 5 at 110 km/h, 5 at 1/15 s); weather
#: rendered by another version must be rendered again.
WEATHER_VERSION = 3


def save_depth(path, depth):
    """Writes metric depth (m, ``inf`` = sky) as a uint16 centimetre PNG."""
    import cv2
    cm = np.where(np.isfinite(depth), np.round(depth * DEPTH_SCALE), DEPTH_SKY)
    cv2.imwrite(path, np.clip(cm, 0, DEPTH_SKY).astype(np.uint16))


def load_depth(path):
    """Reads a depth PNG written by :func:`save_depth` back to metres (``inf`` = sky)."""
    import cv2
    raw = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if raw is None or raw.dtype != np.uint16:
        raise IOError(f'cannot read a uint16 depth map from {path}')
    depth = raw.astype(np.float32) / DEPTH_SCALE
    depth[raw == DEPTH_SKY] = np.inf
    return depth


def _imwrite(path, img):
    import cv2
    os.makedirs(osp.dirname(path), exist_ok=True)
    if img.ndim == 3:
        img = img[..., ::-1]  # RGB -> BGR for OpenCV
    if not cv2.imwrite(path, np.ascontiguousarray(img)):
        raise IOError(f'could not write {path}')


def _scene_seed(seed, split, index):
    return int(np.random.SeedSequence([seed, _SPLIT_CODE[split], index]).generate_state(1)[0])


def camera_path(root, split, city, name):
    """Cityscapes camera file of image ``name``."""
    return osp.join(root, 'camera', split, city, f'{name}_camera.json')


def _write_one(job, out_dir, height, width, seed, style):
    from .camera import save_camera
    from .proccity import render_scene
    split, index = job
    cities = CITIES[split]
    city = cities[index % len(cities)]
    name = f'{city}_{index:06d}_000019'
    img, label, depth, camera = render_scene(_scene_seed(seed, split, index), height, width,
                                             style=style, with_camera=True)
    cam_path = camera_path(out_dir, split, city, name)
    os.makedirs(osp.dirname(cam_path), exist_ok=True)
    save_camera(cam_path, camera)
    _imwrite(osp.join(out_dir, 'leftImg8bit', split, city, f'{name}_leftImg8bit.png'), img)
    _imwrite(osp.join(out_dir, 'gtFine', split, city, f'{name}_gtFine_labelTrainIds.png'), label)
    depth_path = osp.join(out_dir, 'depth', split, city, f'{name}_depth.png')
    os.makedirs(osp.dirname(depth_path), exist_ok=True)
    save_depth(depth_path, depth)
    return np.bincount(label.ravel(), minlength=256)


def _run(fn, jobs, workers, desc, progress):
    from tqdm import tqdm
    if workers <= 1:
        results = [fn(j) for j in tqdm(jobs, desc=desc, disable=not progress)]
    else:
        with ProcessPoolExecutor(workers) as pool:
            results = list(tqdm(pool.map(fn, jobs, chunksize=8), total=len(jobs), desc=desc,
                                disable=not progress))
    return results


def write_proccity(out_dir, splits, size=(128, 256), seed=0, workers=2, progress=True,
                   style='source'):
    """Renders ProcCity into ``out_dir`` in the Cityscapes layout.

    Args:
        out_dir (str): Output root.
        splits (dict[str, int]): Number of images per split, e.g.
            ``{'train': 400, 'val': 40}``.
        size (tuple[int, int]): Image (height, width). Default: (128, 256).
        seed (int): Seed of the whole set; scene ``i`` of a split gets a seed derived
            from (seed, split, i), so sets of different sizes share their scenes.
            Default: 0.
        workers (int): Processes rendering in parallel. Default: 2.
        progress (bool): Show a tqdm progress bar. Default: True.
        style (str): 'source' or 'target' city (:data:`.proccity.STYLES`).
            Default: 'source'.

    Returns:
        dict: the metadata written to ``out_dir/proccity.json`` (sizes, seed and
        per-class pixel counts). The rare-class sampling statistics of the train
        split are written next to it (``sample_class_stats.json``,
        ``samples_with_class.json``).
    """
    from .proccity import STYLES
    if style not in STYLES:
        raise ValueError(f'unknown ProcCity style {style!r}; expected one of {sorted(STYLES)}')
    for split, n in splits.items():
        if split not in CITIES:
            raise ValueError(f'unknown ProcCity split {split!r}; expected one of {sorted(CITIES)}')
        if n < 0:
            raise ValueError(f'number of {split} images must be >= 0, got {n}')
    height, width = size
    jobs = [(split, i) for split, n in splits.items() for i in range(n)]
    fn = partial(_write_one, out_dir=out_dir, height=height, width=width, seed=seed,
                 style=style)
    counts = _run(fn, jobs, workers, 'ProcCity', progress)
    total = np.sum(counts, axis=0) if counts else np.zeros(256, np.int64)
    meta = dict(seed=seed, size=[height, width], splits=dict(splits), style=style,
                version=RENDER_VERSION,
                depth=dict(file='depth/{split}/<city>/<name>_depth.png', unit='cm',
                           dtype='uint16', sky=DEPTH_SKY),
                class_pixels={str(c): int(total[c]) for c in range(256) if total[c]})
    os.makedirs(out_dir, exist_ok=True)
    atomic_write(json.dumps(meta, indent=1), osp.join(out_dir, 'proccity.json'))
    if splits.get('train'):
        # rare-class sampling statistics of the source split (DAFormer format)
        from ..rare_class_sampling import compute_class_stats, write_class_stats
        write_class_stats(out_dir, compute_class_stats(out_dir, osp.join('gtFine', 'train'),
                                                       workers=workers))
    return meta


def rain_dir(split, rate):
    """Image directory of the rain set at ``rate`` mm/h, relative to the root."""
    return osp.join('leftImg8bit', split, 'rain', f'{rate:g}mm', 'rainy_image')


def foggy_name(name, beta):
    """Foggy Cityscapes file name of the clear image ``<name>_leftImg8bit.png``."""
    return f'{name}_leftImg8bit_foggy_beta_{beta}.png'


def condition_dir(subset, weather, severity):
    """Image directory of ``weather`` (a :data:`.conditions.CONDITIONS` name) at
    ``severity`` 1..5, relative to the root; file names as in the clear set."""
    return osp.join(f'leftImg8bit_{weather}', subset, f's{int(severity)}')


def _clear_images(root, split):
    img_root = osp.join(root, 'leftImg8bit', split)
    if not osp.isdir(img_root):
        raise FileNotFoundError(f'no clear images: directory {img_root} does not exist')
    found = []
    for city in sorted(os.listdir(img_root)):
        city_dir = osp.join(img_root, city)
        if city == 'rain' or not osp.isdir(city_dir):
            continue
        for fname in sorted(os.listdir(city_dir)):
            if fname.endswith('_leftImg8bit.png'):
                found.append((city, fname[:-len('_leftImg8bit.png')]))
    if not found:
        raise FileNotFoundError(f'no *_leftImg8bit.png images under {img_root}')
    return found


def _read_sample(root, split, city, name, need_label):
    import cv2

    from .camera import load_camera
    src = osp.join(root, 'leftImg8bit', split, city, f'{name}_leftImg8bit.png')
    bgr = cv2.imread(src, cv2.IMREAD_COLOR)
    if bgr is None:
        raise IOError(f'cannot read image {src}')
    depth_path = osp.join(root, 'depth', split, city, f'{name}_depth.png')
    if not osp.isfile(depth_path):
        raise FileNotFoundError(f'image {src} has no depth map {depth_path}')
    cam_path = camera_path(root, split, city, name)
    if not osp.isfile(cam_path):
        raise FileNotFoundError(f'image {src} has no camera file {cam_path} (render the '
                                f'clear set again with tools/data/proccity.py)')
    label = None
    if need_label:
        lab_path = osp.join(root, 'gtFine', split, city, f'{name}_gtFine_labelTrainIds.png')
        label = cv2.imread(lab_path, cv2.IMREAD_UNCHANGED)
        if label is None:
            raise FileNotFoundError(f'image {src} has no label map {lab_path}')
    return bgr[..., ::-1], label, load_depth(depth_path), load_camera(cam_path)


def _weather_one(job, root, split, rain, fog, conditions, seed):
    from .conditions import render_condition, render_rain_scene
    from .weather import beta_tag, render_fog
    city, name = job
    img, label, depth, camera = _read_sample(root, split, city, name,
                                             bool(conditions) or bool(rain))
    key = zlib.crc32(f'{split}/{city}/{name}'.encode())
    for rate in rain:
        rng = np.random.default_rng([seed, key, int(round(rate * 1000))])
        out = render_rain_scene(img, label, depth, camera, rate, rng)
        _imwrite(osp.join(root, rain_dir(split, rate), city, f'{name}_leftImg8bit.png'), out)
    for vis in fog:
        out = render_fog(img, depth, vis, camera=camera)
        _imwrite(osp.join(root, 'leftImg8bit_foggy', split, city,
                          foggy_name(name, beta_tag(vis))), out)
    for cond, severities in conditions:
        for sev in severities:
            rng = np.random.default_rng([seed, key, zlib.crc32(cond.encode()), sev])
            out = render_condition(cond, img, label, depth, camera, sev, rng)
            _imwrite(osp.join(root, condition_dir(split, cond, sev), city,
                              f'{name}_leftImg8bit.png'), out)


def present_splits(root):
    """The ProcCity splits that have a clear image directory under ``root``."""
    return tuple(s for s in CITIES if osp.isdir(osp.join(root, 'leftImg8bit', s)))


def write_weather(root, rain=(25, 50, 75, 100, 200), fog=(750, 375, 150, 75),
                  splits=None, seed=0, workers=2, progress=True, conditions=None):
    """Renders rain, fog and the severity-graded conditions of every clear image.

    Args:
        root (str): Root in the layout above, with ``depth/`` and ``camera/``
            and ``gtFine/`` (labels: the wet road under the rain, the conditions).
        rain (Sequence[float]): Rain rates in mm/h, each rendered over the road wet
            as the rate makes it (:func:`.surface.rain_wetness`). Default: (25, 50, 75,
            100, 200).
        fog (Sequence[float]): Fog visibilities in m. Default: (750, 375, 150, 75).
        splits (Sequence[str] | None): Splits to render; every split present under
            ``leftImg8bit/`` when None. Default: None.
        seed (int): Seed of the randomness; the output is a function of (seed,
            image, condition, level). Default: 0.
        workers (int): Processes rendering in parallel. Default: 2.
        progress (bool): Show a tqdm progress bar. Default: True.
        conditions (dict[str, Sequence[int]] | None): Condition name
            (:data:`.conditions.CONDITIONS`) -> severities 1..5. Default: None.

    Returns:
        int: the number of clear images processed.
    """
    from .conditions import CONDITIONS
    from .lens import check_severity
    for rate in rain:
        if rate <= 0:
            raise ValueError(f'rain rates must be > 0 mm/h, got {rate}')
    for vis in fog:
        if vis <= 0:
            raise ValueError(f'fog visibilities must be > 0 m, got {vis}')
    conds = []
    for name, sevs in (conditions or {}).items():
        if name not in CONDITIONS:
            raise ValueError(f'unknown condition {name!r}; expected one of {CONDITIONS}')
        conds.append((name, tuple(check_severity(s) for s in sevs)))
    if splits is None:
        splits = present_splits(root)
        if not splits:
            raise FileNotFoundError(f'no clear images: no leftImg8bit/{{train,val,test}} '
                                    f'under {root}')
    n = 0
    for split in splits:
        jobs = _clear_images(root, split)
        fn = partial(_weather_one, root=root, split=split, rain=tuple(rain), fog=tuple(fog),
                     conditions=tuple(conds), seed=seed)
        _run(fn, jobs, workers, f'weather {split}', progress)
        n += len(jobs)
    return n
