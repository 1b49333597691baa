"""Contact sheets: every condition at every severity on a few scenes, one image each."""
import numpy as np

__all__ = ['SHEET_LEVELS', 'contact_sheet', 'style_sheet']

#: Condition -> its levels from mild to hardest (rain in mm/h, fog visibility in m,
#: the graded conditions by severity).
SHEET_LEVELS = {'rain': (25, 50, 75, 100, 200), 'fog': (750, 375, 150, 75),
                'night': (1, 2, 3, 4, 5), 'wet': (1, 2, 3, 4, 5), 'snow': (1, 2, 3, 4, 5),
                'lensdrops': (1, 2, 3, 4, 5), 'motionblur': (1, 2, 3, 4, 5)}


def _render(condition, level, img, label, depth, camera, rng):
    from .conditions import render_condition, render_rain_scene
    from .weather import render_fog
    if condition == 'rain':
        return render_rain_scene(img, label, depth, camera, level, rng)
    if condition == 'fog':
        return render_fog(img, depth, level, camera=camera)
    return render_condition(condition, img, label, depth, camera, level, rng)


def contact_sheet(condition, seeds=(0, 1, 2), size=(128, 256), style='source'):
    """One row per scene: the clear image, then ``condition`` at each of its levels.

    Args:
        condition (str): A key of ``SHEET_LEVELS``.
        seeds (Sequence[int]): Scene seeds. Default: (0, 1, 2).
        size (tuple[int, int]): Tile (height, width). Default: (128, 256).
        style (str): City style of the scenes. Default: 'source'.

    Returns:
        np.ndarray: (len(seeds) H, (1 + levels) W, 3) uint8 RGB.
    """
    from .proccity import render_scene
    if condition not in SHEET_LEVELS:
        raise ValueError(f'unknown condition {condition!r}; expected one of '
                         f'{tuple(SHEET_LEVELS)}')
    rows = []
    for seed in seeds:
        img, label, depth, camera = render_scene(seed, *size, style=style, with_camera=True)
        tiles = [img] + [_render(condition, lv, img, label, depth, camera,
                                 np.random.default_rng([seed, k]))
                         for k, lv in enumerate(SHEET_LEVELS[condition])]
        rows.append(np.concatenate(tiles, 1))
    return np.concatenate(rows, 0)


def style_sheet(seeds=range(8), size=(128, 256), columns=4):
    """Source city scenes (top rows) above target city scenes (bottom rows) of the
    same seeds, ``columns`` per row."""
    from .proccity import render_scene
    out = []
    for style in ('source', 'target'):
        tiles = [render_scene(s, *size, style=style)[0] for s in seeds]
        out += [np.concatenate(tiles[i:i + columns], 1) for i in range(0, len(tiles), columns)]
    return np.concatenate(out, 0)
