"""The severity-graded conditions rendered from an image, its labels, depth and camera.

Each condition is one function ``fn(img, label, depth, camera, severity, rng)``
returning the uint8 RGB image at severity 1 (mild) .. 5 (hardest); the models are
described in their modules: :mod:`.night`, :mod:`.surface` (wet, snow),
:mod:`.lens` (refracting drops on the lens cover), :mod:`.motion` (ego-motion blur).
"""
from .lens import check_severity, render_lensdrops
from .motion import render_motionblur
from .night import render_night
from .surface import rain_wetness, render_snow, render_wet

__all__ = ['CONDITIONS', 'render_condition', 'render_rain_scene']


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


def render_rain_scene(img, label, depth, camera, rate, rng):
    """A street in rain of ``rate`` mm/h: the road wet as the rate makes it
    (:func:`.surface.rain_wetness`: Gallaway's water film depth -> wet severity),
    then the falling rain, its veil and the windscreen drops
    (:func:`.weather.render_rain`).

    Args:
        img (np.ndarray): (H, W, 3) uint8 RGB clear image.
        label (np.ndarray): (H, W) trainIds (which pixels are road and sidewalk).
        depth (np.ndarray): (H, W) depth along the optical axis (m, ``inf`` = sky).
        camera (Camera): The scene's camera (:mod:`.camera`).
        rate (float): Rain rate in mm/h.
        rng (np.random.Generator): Randomness of the puddles and the drops.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB image.
    """
    from .weather import render_rain
    wet = render_wet(img, label, depth, camera, rain_wetness(rate), rng)
    return render_rain(wet, depth, rate, rng, camera=camera)
