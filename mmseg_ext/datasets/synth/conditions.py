"""The severity-graded conditions rendered from an image, its labels, depth and camera.

Each condition is one function ``fn(img, label, depth, camera, severity, rng)``
returning the uint8 RGB image at severity 1 (mild) .. 5 (hardest); the models are
described in their modules: :mod:`.night`, :mod:`.surface` (wet, snow),
:mod:`.lens` (refracting drops on the lens cover), :mod:`.motion` (ego-motion blur).
"""
from .lens import check_severity, render_lensdrops
from .motion import render_motionblur
from .night import render_night
from .surface import render_snow, render_wet

__all__ = ['CONDITIONS', 'render_condition']


def _lensdrops(img, label, depth, camera, severity, rng):
    return render_lensdrops(img, camera, severity, rng)


def _motionblur(img, label, depth, camera, severity, rng):
    return render_motionblur(img, depth, camera, severity, rng)


_RENDER = {'night': render_night, 'wet': render_wet, 'snow': render_snow,
           'lensdrops': _lensdrops, 'motionblur': _motionblur}
#: Names of the severity-graded conditions.
CONDITIONS = tuple(_RENDER)


def render_condition(name, img, label, depth, camera, severity, rng):
    """Renders condition ``name`` (one of ``CONDITIONS``) at ``severity`` 1..5.

    Args:
        name (str): 'night', 'wet', 'snow', 'lensdrops' or 'motionblur'.
        img (np.ndarray): (H, W, 3) uint8 RGB clear image.
        label (np.ndarray): (H, W) trainIds.
        depth (np.ndarray): (H, W) depth along the optical axis (m, ``inf`` = sky).
        camera (Camera): The scene's camera (:mod:`.camera`).
        severity (int): 1..5.
        rng (np.random.Generator): Randomness of the condition.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB image.
    """
    if name not in _RENDER:
        raise ValueError(f'unknown condition {name!r}; expected one of {CONDITIONS}')
    return _RENDER[name](img, label, depth, camera, check_severity(severity), rng)
