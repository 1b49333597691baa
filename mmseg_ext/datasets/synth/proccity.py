"""ProcCity: procedural Cityscapes-like street scenes with labels and metric depth.

A pinhole camera at height ``h_c`` looks down a straight street. Every pixel is a
ray ``(u, v) = ((x - c_x) / f, (y_h - y) / f)``; a point at depth ``Z`` on it has
lateral position ``X = u Z`` and height ``Y = h_c + v Z``. The scene is made of

* the ground plane ``Y = 0`` (road, sidewalks, terrain verges),
* lateral panels parallel to the road ``X = const`` (building facades, walls,
  fences, a tree line behind gaps) cut by a depth range and a height range,
* an optional frontal plane closing the street (a skyline of buildings/trees),
* frontal billboards standing on the ground (cars, trucks, buses, trams,
  motorcycles and bicycles with riders, persons, poles, traffic lights and
  signs, trees), each with a shape drawn in its own ``(a, b)`` unit square,

composited with a depth buffer, so the label map (Cityscapes trainIds) and the
depth map (metres, ``inf`` for sky) follow from the same geometry as the image.
Textures, colours, lighting (exposure, tint, sun side, cast shadows) and layout
vary per seed; rare classes (train, motorcycle, rider, bus, ...) appear in few
images, giving a long-tailed pixel frequency as in Cityscapes.
"""
import numpy as np

from .camera import Camera
from .labels import TRAIN_ID

__all__ = ['render_scene', 'STYLES']

_T = TRAIN_ID
SKY_DEPTH = np.inf
#: Depth (m) up to which facades are laid out along an open street.
FACADE_DEPTH = 250.0
#: Finite stand-in for 'no hit' inside the ray computations.
_FAR = 1e5


def _noise(rng, shape, scale):
    """Smooth value noise in [0, 1] of ``shape`` with features about ``scale`` px."""
    import cv2
    h, w = shape
    gh, gw = max(2, int(h / scale) + 2), max(2, int(w / scale) + 2)
    grid = rng.random((gh, gw)).astype(np.float32)
    out = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(out, 0.0, 1.0)


class _Canvas:
    """Colour, label and depth buffers plus the camera of one scene."""

    def __init__(self, rng, height, width):
        self.rng = rng
        self.h, self.w = height, width
        self.f = width * rng.uniform(0.8, 1.0)
        self.cx = width * (0.5 + rng.uniform(-0.04, 0.04))
        self.yh = height * rng.uniform(0.33, 0.52)  # pitch, as a principal-point shift
        self.hc = rng.uniform(1.2, 2.2)  # cars to vans
        self.camera = Camera(f=float(self.f), cx=float(self.cx), cy=float(self.yh),
                             height=float(self.hc))
        xs = np.arange(width, dtype=np.float32) + 0.5
        ys = np.arange(height, dtype=np.float32) + 0.5
        self.u = ((xs - self.cx) / self.f)[None, :]
        self.v = ((self.yh - ys) / self.f)[:, None]
        self.color = np.zeros((height, width, 3), np.float32)
        self.label = np.full((height, width), _T['sky'], np.uint8)
        self.depth = np.full((height, width), SKY_DEPTH, np.float32)
        # screen-space noise fields shared by the textures
        self.fine = _noise(rng, (height, width), 2.0)
        self.mid = _noise(rng, (height, width), 6.0)
        self.coarse = _noise(rng, (height, width), 24.0)

    def paint(self, mask, depth, cls, color, sl=(slice(None), slice(None))):
        """Writes ``color``/``cls``/``depth`` where ``mask`` is nearer than the buffer."""
        dbuf = self.depth[sl]
        mask = mask & (depth < dbuf)
        if not mask.any():
            return
        dbuf[mask] = np.broadcast_to(depth, mask.shape)[mask]
        self.label[sl][mask] = cls
        col = np.broadcast_to(color, mask.shape + (3,))
        self.color[sl][mask] = col[mask]


def _vary(rng, rgb, amount=0.08):
    rgb = np.asarray(rgb, np.float32) / 255.0
    return np.clip(rgb * rng.uniform(1 - amount * 2, 1 + amount * 2)
                   + rng.uniform(-amount, amount, 3), 0, 1).astype(np.float32)


def _textured(base, noise, strength):
    return base[None, None, :] * (1.0 + strength * (noise[..., None] - 0.5))


# --------------------------------------------------------------------------- sky
def _draw_sky(cv, st, overcast):
    rng = cv.rng
    if overcast:
        top = _vary(rng, (150, 155, 165), 0.05)
        hor = _vary(rng, (200, 200, 205), 0.04)
    else:
        top = _vary(rng, st['sky'][0], 0.06)
        hor = _vary(rng, st['sky'][1], 0.05)
    t = np.clip(cv.v / max(float(cv.v.max()), 1e-3), 0, 1)[..., None]
    sky = hor * (1 - t) + top * t
    clouds = np.clip((cv.coarse - 0.45) * 2.5, 0, 1)[..., None] * rng.uniform(0.2, 0.7)
    sky = sky * (1 - clouds) + np.float32(0.93) * clouds
    cv.color[:] = np.broadcast_to(sky, cv.color.shape)


# ------------------------------------------------------------------------ ground
def _draw_ground(cv, lay):
    below = cv.v < 0
    z = np.where(below, cv.hc / np.maximum(-cv.v, 1e-6), _FAR)
    z = np.broadcast_to(z, (cv.h, cv.w))
    x = cv.u * z
    dx = x - lay['road_x']
    mask = (z < _FAR) & (z < lay['z_end'])
    rw = lay['road_half']
    left = dx < 0
    sw = np.where(left, lay['sidewalk_l'], lay['sidewalk_r'])
    verge_is_terrain = np.where(left, lay['verge_l'], lay['verge_r'])
    adx = np.abs(dx)
    crossing = _in_crossing(lay, z)
    road = (adx < rw) | crossing
    side = (~road) & (adx < rw + sw)
    verge = (~road) & (~side)
    # road: asphalt with repaired patches (or cobbles), dashed centre line, edge
    # lines and a crosswalk
    asphalt = _textured(lay['road_rgb'], cv.fine * 0.6 + cv.mid * 0.4, 0.25)
    if lay['style']['road_texture'] == 'cobble':
        stones = (np.mod(dx + 0.5 * (np.mod(z, 0.5) < 0.25), 0.25) < 0.035) | \
            (np.mod(z, 0.25) < 0.035)
        asphalt = asphalt * np.where(stones, 0.7, 1.0)[..., None]
    else:
        patch = cv.coarse > 0.62
        asphalt = np.where(patch[..., None], _textured(lay['patch_rgb'], cv.fine, 0.3),
                           asphalt)
    dash = (np.abs(dx) < 0.08) & (np.mod(z, 9.0) < 3.5) & lay['centre_line'] & ~crossing
    edge = (np.abs(adx - (rw - 0.25)) < 0.08) & ~crossing
    zebra = ((z > lay['zebra_z']) & (z < lay['zebra_z'] + 3.0)
             & (np.mod(dx, 1.0) < 0.5) & (adx < rw - 0.3))
    paint = dash | edge | zebra
    road_col = np.where(paint[..., None], np.float32(0.85), asphalt)
    # sidewalk: paving tiles
    tiles = (np.mod(dx, 0.9) < 0.07) | (np.mod(z, 0.9) < 0.07)
    side_col = _textured(lay['side_rgb'], cv.fine, 0.2) * np.where(tiles, 0.8, 1.0)[..., None]
    terr_col = _textured(lay['terrain_rgb'], cv.fine * 0.5 + cv.mid * 0.5, 0.55)
    verge_side_col = _textured(lay['side_rgb'] * 0.92, cv.fine, 0.2)
    color = np.where(road[..., None], road_col,
                     np.where(side[..., None], side_col,
                              np.where(verge_is_terrain[..., None], terr_col, verge_side_col)))
    cls = np.where(road, _T['road'], np.where(side | (verge & ~verge_is_terrain),
                                             _T['sidewalk'], _T['terrain']))
    # cast shadow of the buildings on the sun-less side
    shadow = (dx * lay['sun_side'] < -lay['shadow_edge'])
    color = color * np.where(shadow, lay['shadow'], 1.0)[..., None]
    cv.depth[mask] = z[mask]
    cv.label[mask] = cls[mask].astype(np.uint8)
    cv.color[mask] = color[mask]


# ---------------------------------------------------------------- lateral panels
def _facade_color(cv, base, zz, yy, windows, floor_h, bay_w):
    col = _textured(base, cv.fine * 0.5 + cv.mid * 0.5, 0.2)
    if windows:
        fy = np.mod(yy, floor_h) / floor_h
        fz = np.mod(zz, bay_w) / bay_w
        win = (fy > 0.3) & (fy < 0.8) & (fz > 0.2) & (fz < 0.75) & (yy > 1.0)
        glass = np.array([0.18, 0.22, 0.3], np.float32) + 0.25 * cv.coarse[..., None]
        col = np.where(win[..., None], glass, col)
    return col


def _draw_panel(cv, x_world, z0, z1, y0, y1, cls, base, kind, light):
    """A vertical panel at lateral ``X = x_world`` spanning depth [z0, z1) and
    height [y0, y1) (``y1`` a number or a function of depth)."""
    u = cv.u
    valid = (u * np.sign(x_world)) > 1e-6
    z = np.where(valid, abs(x_world) / np.maximum(np.abs(u), 1e-6), _FAR)
    z = np.broadcast_to(z, (cv.h, cv.w))
    y = cv.hc + cv.v * z
    top = y1(z) if callable(y1) else y1
    mask = valid & (z >= z0) & (z < z1) & (y >= y0) & (y < top)
    rows, cols = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
    if not len(rows):
        return
    # texture only the panel's bounding box
    sl = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    mask, z, y = mask[sl], z[sl], y[sl]
    top = top[sl] if np.ndim(top) == 2 else top
    cv = _Patch(cv, sl)
    if kind == 'building':
        col = _facade_color(cv, base, z, y, True, _floor_height(base), 3.0 + 2.0 * base[0])
    elif kind == 'wall':
        joints = (np.mod(y, 0.6) < 0.05) | (np.mod(z, 2.0) < 0.08)
        col = _textured(base, cv.fine, 0.3) * np.where(joints, 0.75, 1.0)[..., None]
    elif kind == 'fence':
        posts = np.mod(z, 2.5) < 0.25
        rails = (np.abs(y - 0.3) < 0.08) | (np.abs(y - top + 0.15) < 0.08)
        bars = np.mod(z * 8.0, 1.0) < 0.45
        col = _textured(base, cv.fine, 0.2) * np.where(posts | rails, 0.7,
                                                       np.where(bars, 1.0, 0.82))[..., None]
    else:  # vegetation tree line
        col = _textured(base, cv.fine * 0.6 + cv.mid * 0.4, 0.9)
    cv.canvas.paint(mask, z, cls, col * light, sl)


class _Patch:
    """The noise fields of a canvas cut to a window ``sl``."""

    def __init__(self, canvas, sl):
        self.canvas = canvas
        self.fine, self.mid, self.coarse = canvas.fine[sl], canvas.mid[sl], canvas.coarse[sl]


def _floor_height(base):
    """Floor height (m) derived from the facade colour, so it varies per building."""
    return 2.8 + 0.8 * float(base[1])


def _tree_line_top(rng, h0):
    amps = rng.uniform(0.5, 2.0, 3)
    freqs = rng.uniform(0.15, 0.8, 3)
    phases = rng.uniform(0, 2 * np.pi, 3)

    def top(z):
        return h0 + sum(a * np.sin(fr * z + p) for a, fr, p in zip(amps, freqs, phases))
    return top



def _draw_street_sides(cv, lay):
    rng = cv.rng
    rx = lay['road_x']
    palette = lay['style']['palette']
    for side in (-1, 1):
        light = lay['light_l'] if side < 0 else lay['light_r']
        face = rx + side * (lay['facade_l'] if side < 0 else lay['facade_r'])
        kerb = rx + side * (lay['road_half'] + (lay['sidewalk_l'] if side < 0
                                                else lay['sidewalk_r']))
        # a tree line or far buildings behind the facades, seen through the gaps
        back = face + side * rng.uniform(8, 25)
        spans = ([(0, lay['cross_z']), (lay['cross_z'] + lay['cross_w'], lay['z_end'])]
                 if np.isfinite(lay['cross_z']) else [(0, lay['z_end'])])
        if rng.random() < 0.6:
            top = _tree_line_top(rng, rng.uniform(5, 12))
            leaves = _vary(rng, (80, 115, 45), 0.1)
            for z0, z1 in spans:
                _draw_panel(cv, back, z0, z1, -1, top, _T['vegetation'], leaves, 'trees', light)
        else:
            top = rng.uniform(10, 30)
            base = _vary(rng, palette[rng.integers(len(palette))])
            for z0, z1 in spans:
                _draw_panel(cv, back, z0, z1, -1, top, _T['building'], base, 'building',
                            light * 0.9)
        if np.isfinite(lay['cross_z']):  # the far corner block of the cross street
            z_far = lay['cross_z'] + lay['cross_w']
            _draw_front(cv, z_far, face, face + side * 40.0, rng.uniform(
                *lay['style']['building_h']), _vary(rng, palette[rng.integers(len(palette))]),
                light * 0.95)
        z = rng.uniform(0, 6)
        while z < min(lay['z_end'], FACADE_DEPTH):
            length = rng.uniform(6, 28)
            if np.isfinite(lay['cross_z']) and z < lay['cross_z'] + lay['cross_w'] and \
                    z + length > lay['cross_z']:
                length = max(lay['cross_z'] - z, 0.0)  # the block ends at the corner
                if length < 1.0:
                    z = lay['cross_z'] + lay['cross_w']
                    continue
            kind = rng.choice(['building', 'gap', 'wall'], p=lay['style']['facade_kinds'])
            if kind == 'building':
                base = _vary(rng, palette[rng.integers(len(palette))])
                _draw_panel(cv, face, z, z + length, -1, rng.uniform(
                    *lay['style']['building_h']), _T['building'], base, 'building', light)
            elif kind == 'wall':
                _draw_panel(cv, face, z, z + length, -1, rng.uniform(1.5, 4.0),
                            _T['wall'], _vary(rng, (150, 145, 135), 0.12), 'wall', light)
            elif rng.random() < 0.7:
                _draw_panel(cv, kerb + side * 0.3, z, z + length, -1, rng.uniform(0.9, 1.8),
                            _T['fence'], _vary(rng, (140, 120, 100), 0.15), 'fence', light)
            z += length


def _draw_front(cv, z, x0, x1, top, base, light):
    """A building front facing the camera at depth ``z`` between laterals x0, x1."""
    x = cv.u * z
    y = cv.hc + cv.v * z
    lo, hi = min(x0, x1), max(x0, x1)
    mask = np.broadcast_to((x >= lo) & (x < hi) & (y >= -1) & (y < top), (cv.h, cv.w))
    if not mask.any():
        return
    col = _facade_color(cv, base, np.broadcast_to(x, (cv.h, cv.w)) + 50.0,
                        np.broadcast_to(y, (cv.h, cv.w)), True, _floor_height(base), 3.2)
    cv.paint(mask, np.float32(z), _T['building'], col * light)


# -------------------------------------------------------------- frontal end plane
def _draw_end(cv, lay):
    rng = cv.rng
    ze = lay['z_end']
    if not np.isfinite(ze):
        return
    x = cv.u * ze
    y = cv.hc + cv.v * ze
    edges = np.sort(rng.uniform(-60, 60, 6))
    seg = np.searchsorted(edges, x)
    kinds = rng.random(len(edges) + 1) < 0.7
    heights = rng.uniform(6, 30, len(edges) + 1)
    tops = np.where(kinds[seg], heights[seg], heights[seg] * 0.4 + 4 * cv.mid)
    mask = np.broadcast_to(y < tops, (cv.h, cv.w)) & (y >= -1)
    palette = lay['style']['palette']
    base_b = _vary(rng, palette[rng.integers(len(palette))])
    col_b = _facade_color(cv, base_b, np.broadcast_to(x, (cv.h, cv.w)) + 100.0,
                          np.broadcast_to(y, (cv.h, cv.w)), True, _floor_height(base_b), 3.5)
    col_v = _textured(_vary(rng, (85, 120, 50), 0.1), cv.fine, 0.9)
    is_b = np.broadcast_to(kinds[seg], (cv.h, cv.w))
    col = np.where(is_b[..., None], col_b, col_v)
    cls = np.where(is_b, _T['building'], _T['vegetation']).astype(np.uint8)
    depth = np.float32(ze)
    m = mask & (depth < cv.depth)
    cv.depth[m] = depth
    cv.label[m] = cls[m]
    cv.color[m] = col[m] * lay['light_end']


# ---------------------------------------------------------------------- sprites
def _sprite(cv, x, z, width, height, shape, y_base=0.0):
    """Draws a frontal object at lateral ``x``, depth ``z``; ``shape(a, b)`` gives
    a list of ``(mask, cls, color)`` in the object's unit square (b=0 top)."""
    if z <= 0.5:
        return
    f = cv.f
    x0 = cv.cx + f * (x - width / 2) / z
    x1 = cv.cx + f * (x + width / 2) / z
    yt = cv.yh - f * (y_base + height - cv.hc) / z
    yb = cv.yh - f * (y_base - cv.hc) / z
    c0, c1 = max(int(np.floor(x0)), 0), min(int(np.ceil(x1)), cv.w)
    r0, r1 = max(int(np.floor(yt)), 0), min(int(np.ceil(yb)), cv.h)
    if c0 >= c1 or r0 >= r1:
        return
    xs = np.arange(c0, c1, dtype=np.float32) + 0.5
    ys = np.arange(r0, r1, dtype=np.float32) + 0.5
    a = ((xs - x0) / (x1 - x0))[None, :]
    b = ((ys - yt) / (yb - yt))[:, None]
    a, b = np.broadcast_arrays(a, b)
    sl = (slice(r0, r1), slice(c0, c1))
    tex = cv.fine[sl]
    for mask, cls, color in shape(a, b):
        col = np.asarray(color, np.float32)
        col = col[None, None, :] * (0.92 + 0.16 * tex[..., None]) if col.ndim == 1 else col
        cv.paint(mask, np.float32(z), cls, col, sl)


def _car_views(body, glass, tyre, cls):
    """Front and side views of a car (unit squares; the side one spans its length)."""
    lamp_w = np.array([0.95, 0.95, 0.85], np.float32)

    def front(a, b):
        lower = (b > 0.45) & (b < 0.9)
        cabin = (b >= 0.05) & (b <= 0.45) & (np.abs(a - 0.5) < 0.32 + 0.18 * (b - 0.05) / 0.4)
        win = (b > 0.1) & (b < 0.43) & (np.abs(a - 0.5) < 0.28 + 0.16 * (b - 0.1) / 0.33)
        grille = (b > 0.6) & (b < 0.72) & (np.abs(a - 0.5) < 0.22)
        wheels = (b >= 0.85) & ((a < 0.22) | (a > 0.78))
        lights = (b > 0.55) & (b < 0.64) & ((a < 0.2) | (a > 0.8))
        return [(lower | cabin, cls, body), (win, cls, glass), (grille, cls, tyre * 2),
                (wheels, cls, tyre), (lights, cls, lamp_w)]

    def side(a, b):
        lower = (b > 0.4) & (b < 0.82)
        cabin = (b >= 0.05) & (b <= 0.4) & (np.abs(a - 0.47) < 0.22 + 0.12 * (b - 0.05) / 0.35)
        win = (b > 0.1) & (b < 0.38) & (np.abs(a - 0.47) < 0.18 + 0.1 * (b - 0.1) / 0.28) & \
            (np.abs(a - 0.5) > 0.015)
        wheels = (((a - 0.18) / 0.08) ** 2 + ((b - 0.8) / 0.2) ** 2 < 1) | \
            (((a - 0.82) / 0.08) ** 2 + ((b - 0.8) / 0.2) ** 2 < 1)
        return [(lower | cabin, cls, body), (win, cls, glass), (wheels, cls, tyre)]
    return front, side


def _angled(face, side, frac):
    """A vehicle seen at an angle: its face on ``a < frac``, its side beyond."""
    def shape(a, b):
        near = a < frac
        out = [(m & near, c, col) for m, c, col in face(a / frac, b)]
        out += [(m & ~near, c, col) for m, c, col in side((a - frac) / (1 - frac), b)]
        return out
    return shape


def _vehicle(rng, kind, view='rear'):
    body = _vary(rng, [(200, 30, 30), (30, 60, 160), (220, 220, 220), (30, 30, 35),
                       (150, 150, 155), (40, 110, 60), (230, 200, 40)][rng.integers(7)], 0.1)
    glass = np.array([0.12, 0.15, 0.2], np.float32)
    tyre = np.array([0.05, 0.05, 0.05], np.float32)
    cls = _T[kind]

    def car(a, b):
        lower = (b > 0.45) & (b < 0.9)
        cabin = (b >= 0.05) & (b <= 0.45) & (np.abs(a - 0.5) < 0.32 + 0.18 * (b - 0.05) / 0.4)
        win = (b > 0.12) & (b < 0.42) & (np.abs(a - 0.5) < 0.27 + 0.15 * (b - 0.12) / 0.3)
        wheels = (b >= 0.85) & ((a < 0.22) | (a > 0.78))
        lights = (b > 0.55) & (b < 0.65) & ((a < 0.15) | (a > 0.85))
        return [(lower | cabin, cls, body), (win, cls, glass), (wheels, cls, tyre),
                (lights, cls, np.array([0.9, 0.85, 0.6], np.float32))]

    def truck(a, b):
        box = b < 0.82
        cabin_w = (b > 0.55) & (b < 0.7) & (np.abs(a - 0.5) < 0.4)
        wheels = (b >= 0.82) & ((a < 0.25) | (a > 0.75))
        return [(box, cls, body * 0.9 + 0.1), (cabin_w, cls, glass), (wheels, cls, tyre)]

    def bus(a, b):
        shell = b < 0.88
        win = (b > 0.12) & (b < 0.45) & (np.abs(a - 0.5) < 0.44)
        sign = (b > 0.03) & (b < 0.1) & (np.abs(a - 0.5) < 0.3)
        wheels = (b >= 0.88) & ((a < 0.2) | (a > 0.8))
        return [(shell, cls, body), (win, cls, glass),
                (sign, cls, np.array([0.95, 0.6, 0.1], np.float32)), (wheels, cls, tyre)]

    def train(a, b):
        shell = (b > 0.04) & (b < 0.93) & (np.abs(a - 0.5) < 0.48 - 0.08 * (b < 0.15))
        win = (b > 0.15) & (b < 0.5) & (np.abs(a - 0.5) < 0.4)
        stripe = (b > 0.62) & (b < 0.7)
        pant = (b <= 0.04) & (np.abs(a - 0.5) < 0.05)
        return [(shell, cls, body), (win, cls, glass),
                (stripe & shell, cls, np.array([0.9, 0.9, 0.9], np.float32)),
                (pant, _T['pole'], np.array([0.3, 0.3, 0.3], np.float32))]

    if kind == 'car' and view != 'rear':
        front, side = _car_views(body, glass, tyre, cls)
        if view == 'front':
            return front
        if view == 'side':
            return side
        return _angled(front if view == 'angled-front' else car, side, rng.uniform(0.3, 0.5))
    return {'car': car, 'truck': truck, 'bus': bus, 'train': train}[kind]


def _person_shape(rng, cls):
    skin = _vary(rng, (200, 160, 130), 0.15)
    top = _vary(rng, [(40, 40, 120), (150, 30, 30), (60, 60, 60), (220, 200, 170),
                      (30, 100, 60)][rng.integers(5)], 0.1)
    legs = _vary(rng, [(30, 30, 60), (50, 50, 50), (100, 80, 60)][rng.integers(3)], 0.1)
    stride = rng.uniform(0, 0.15)

    def person(a, b):
        head = (a - 0.5) ** 2 / 0.03 + (b - 0.07) ** 2 / 0.005 < 1
        torso = (b > 0.12) & (b < 0.52) & (np.abs(a - 0.5) < 0.3)
        arms = (b > 0.14) & (b < 0.48) & (np.abs(a - 0.5) < 0.45) & ~torso
        leg = (b >= 0.52) & ((np.abs(a - 0.38 + stride * (b - 0.52)) < 0.1)
                             | (np.abs(a - 0.62 - stride * (b - 0.52)) < 0.1))
        return [(head, cls, skin), (torso, cls, top), (arms, cls, top * 0.9), (leg, cls, legs)]
    return person


def _two_wheeler(rng, kind):
    frame = _vary(rng, (40, 40, 45) if kind == 'motorcycle' else (30, 90, 160), 0.2)
    cls = _T[kind]
    thick = 0.22 if kind == 'motorcycle' else 0.16

    def bike(a, b):
        wheel = (np.abs(a - 0.5) < thick) & (b > 0.2)
        bar = (b > 0.05) & (b < 0.16) & (np.abs(a - 0.5) < 0.48)
        body = (b > 0.12) & (b < 0.6) & (np.abs(a - 0.5) < thick + 0.12) if kind == 'motorcycle' \
            else np.zeros_like(wheel)
        return [(wheel | bar | body, cls, frame)]
    return bike


def _pole_shape(color):
    def pole(a, b):
        return [(np.ones_like(a, dtype=bool), _T['pole'], color)]
    return pole


def _light_shape(rng):
    housing = np.array([0.1, 0.1, 0.1], np.float32) + rng.uniform(0, 0.15)
    lit = rng.integers(3)
    lamp_cols = [np.array(c, np.float32)
                 for c in ((0.9, 0.15, 0.1), (0.95, 0.7, 0.1), (0.2, 0.9, 0.3))]

    def light(a, b):
        out = [(np.ones_like(a, dtype=bool), _T['traffic light'], housing)]
        for k in range(3):
            lamp = (a - 0.5) ** 2 / 0.09 + (b - (0.18 + 0.32 * k)) ** 2 / 0.012 < 1
            out.append((lamp, _T['traffic light'],
                        lamp_cols[k] if k == lit else lamp_cols[k] * 0.3))
        return out
    return light


def _sign_shape(rng):
    kind = rng.integers(3)
    face, rim = [((0.95, 0.95, 0.95), (0.8, 0.1, 0.1)), ((0.1, 0.3, 0.8), (0.9, 0.9, 0.9)),
                 ((0.95, 0.8, 0.1), (0.1, 0.1, 0.1))][rng.integers(3)]
    face, rim = np.array(face, np.float32), np.array(rim, np.float32)

    def sign(a, b):
        if kind == 0:
            r2 = (a - 0.5) ** 2 + (b - 0.5) ** 2
            return [(r2 < 0.25, _T['traffic sign'], rim), (r2 < 0.13, _T['traffic sign'], face)]
        if kind == 1:
            tri = (b > 0.05) & (np.abs(a - 0.5) < 0.5 * (b - 0.05) / 0.95)
            inner = (b > 0.3) & (np.abs(a - 0.5) < 0.5 * (b - 0.3) / 0.95 - 0.05)
            return [(tri, _T['traffic sign'], rim), (inner, _T['traffic sign'], face)]
        full = np.ones_like(a, dtype=bool)
        border = (a < 0.1) | (a > 0.9) | (b < 0.1) | (b > 0.9)
        return [(full, _T['traffic sign'], face), (border, _T['traffic sign'], rim)]
    return sign


def _tree_shape(rng, crown_frac, leaves_rgb):
    leaves = _vary(rng, leaves_rgb, 0.12)
    bark = _vary(rng, (90, 70, 50), 0.1)
    lumps = rng.uniform(0.7, 1.0, 5)
    phase = rng.uniform(0, 2 * np.pi)

    def tree(a, b):
        ang = np.arctan2(b - crown_frac / 2, a - 0.5)
        r = 0.5 * (0.85 + 0.15 * np.sin(5 * ang + phase) * lumps[0])
        crown = ((a - 0.5) ** 2 + ((b - crown_frac / 2) / crown_frac) ** 2 * 0.25
                 < r ** 2)
        trunk = (b > crown_frac * 0.7) & (np.abs(a - 0.5) < 0.06)
        return [(trunk, _T['vegetation'], bark), (crown, _T['vegetation'], leaves)]
    return tree


def _draw_objects(cv, lay):
    rng = cv.rng
    st = lay['style']
    rx, rw = lay['road_x'], lay['road_half']
    kerbs = {-1: rw + lay['sidewalk_l'], 1: rw + lay['sidewalk_r']}
    zmax = min(lay['z_end'] - 1.0, 90.0)
    items = []  # (z, drawer) drawn far to near (the depth test resolves overlaps)

    def add(z, fn):
        items.append((z, fn))

    # street furniture along both kerbs
    for side in (-1, 1):
        z = rng.uniform(3, 15)
        while z < zmax:
            px = rx + side * (rw + 0.4)
            h = rng.uniform(5, 8)
            width = rng.uniform(0.12, 0.25)
            col = _vary(rng, (120, 120, 125), 0.15)
            add(z, lambda px=px, z=z, h=h, w=width, c=col: _sprite(cv, px, z, w, h, _pole_shape(c)))
            z += rng.uniform(10, 30)
        for _ in range(rng.poisson(2.2)):
            z = rng.uniform(4, zmax)
            px = rx + side * (rw + 0.5)
            plate_h = rng.uniform(0.7, 1.1)
            base = rng.uniform(1.8, 2.6)
            add(z, lambda px=px, z=z, base=base: _sprite(
                cv, px, z, 0.08, base + 0.2, _pole_shape(np.array([0.5, 0.5, 0.52], np.float32))))
            add(z - 0.05, lambda px=px, z=z, ph=plate_h, base=base, s=_sign_shape(rng): _sprite(
                cv, px, z - 0.05, ph, ph, s, y_base=base))
        for _ in range(rng.poisson(st['trees'])):
            z = rng.uniform(3, zmax)
            px = rx + side * (kerbs[side] + rng.uniform(-0.8, 1.5))
            ch = rng.uniform(2.5, 6)
            cw = ch * rng.uniform(0.5, 0.9)
            add(z, lambda px=px, z=z, ch=ch, cw=cw,
                s=_tree_shape(rng, 0.6, st['leaves_rgb']): _sprite(cv, px, z, cw, ch / 0.6, s))
    # traffic lights at a crossing
    if rng.random() < 0.85:
        zl = rng.uniform(6, min(zmax, 40))
        for side in rng.choice([-1, 1], rng.integers(1, 3), replace=False):
            px = rx + side * (rw + 0.3)
            hb = rng.uniform(2.6, 4.0)
            add(zl, lambda px=px, z=zl, hb=hb: _sprite(
                cv, px, z, 0.15, hb + 0.1, _pole_shape(np.array([0.3, 0.3, 0.3], np.float32))))
            add(zl - 0.05, lambda px=px, z=zl, hb=hb, s=_light_shape(rng): _sprite(
                cv, px, z - 0.05, 0.5, 1.3, s, y_base=hb))
    # street clutter: bins (void, label 255 as in Cityscapes) and bollards (pole)
    for side in (-1, 1):
        for _ in range(rng.poisson(st['clutter'])):
            z = rng.uniform(3, min(zmax, 40))
            if rng.random() < 0.5:
                px = rx + side * (rw + rng.uniform(0.6, max(kerbs[side] - rw - 0.3, 0.7)))
                col = _vary(rng, [(40, 90, 50), (90, 90, 95), (60, 60, 140)][rng.integers(3)])
                add(z, lambda px=px, z=z, c=col: _sprite(
                    cv, px, z, 0.6, 1.05, lambda a, b, c=c: [(np.ones_like(a, bool), 255, c)]))
            else:
                px = rx + side * (rw + 0.25)
                add(z, lambda px=px, z=z: _sprite(cv, px, z, 0.15, 0.9, _pole_shape(
                    np.array([0.35, 0.35, 0.38], np.float32))))
    # vehicles in both lanes (ours seen from behind, oncoming from the front), parked
    # ones (some at an angle), cross traffic seen from the side at an intersection
    lanes = [rx - rw / 2, rx + rw / 2]
    for _ in range(rng.poisson(st['cars'])):
        z = rng.uniform(6, zmax)
        lane = rng.integers(2)
        add(z, lambda x=lanes[lane] + rng.uniform(-0.4, 0.4), z=z,
            s=_vehicle(rng, 'car', 'rear' if lane == 1 else 'front'),
            wd=rng.uniform(1.7, 2.0), hh=rng.uniform(1.4, 1.6): _sprite(cv, x, z, wd, hh, s))
    for _ in range(rng.poisson(st['parked'])):
        side = rng.choice([-1, 1])
        z = rng.uniform(5, zmax)
        view = rng.choice(['rear', 'front', 'angled-rear', 'angled-front'],
                          p=[0.35, 0.25, 0.2, 0.2])
        wd = rng.uniform(1.7, 2.0) if view in ('rear', 'front') else rng.uniform(3.0, 4.0)
        add(z, lambda x=rx + side * (rw - wd / 2 - 0.2), z=z, s=_vehicle(rng, 'car', view),
            wd=wd, hh=rng.uniform(1.4, 1.6): _sprite(cv, x, z, wd, hh, s))
    if np.isfinite(lay['cross_z']):
        for _ in range(rng.poisson(1.2)):
            z = lay['cross_z'] + rng.uniform(1.5, lay['cross_w'] - 1.5)
            add(z, lambda x=rx + rng.uniform(-18, 18), z=z, s=_vehicle(rng, 'car', 'side'),
                wd=rng.uniform(3.9, 4.6), hh=rng.uniform(1.4, 1.6): _sprite(
                    cv, x, z, wd, hh, s))
    for kind, wd, hh in (('truck', 2.5, 3.3), ('bus', 2.55, 3.2), ('train', 2.65, 3.6)):
        if rng.random() < st['rare'][kind]:
            z = rng.uniform(10, max(zmax, 12))
            x = rx if kind == 'train' else lanes[rng.integers(2)]
            add(z, lambda x=x, z=z, s=_vehicle(rng, kind), wd=wd, hh=hh: _sprite(
                cv, x, z, wd, hh, s))
    # persons on sidewalks, some crossing
    for _ in range(rng.poisson(st['persons'])):
        side = rng.choice([-1, 1])
        z = rng.uniform(3.5, min(zmax, 35))
        crossing = rng.random() < 0.15
        x = rx + (rng.uniform(-rw, rw) if crossing else
                  side * (rw + rng.uniform(0.5, max(kerbs[side] - rw - 0.3, 0.6))))
        hh = rng.uniform(1.55, 1.9)
        add(z, lambda x=x, z=z, hh=hh, s=_person_shape(rng, _T['person']): _sprite(
            cv, x, z, hh * 0.3, hh, s))
    # riders on bicycles and motorcycles
    for kind in ('bicycle', 'motorcycle'):
        prob = st['rare'][kind]
        for _ in range(int(rng.random() < prob) + int(rng.random() < prob * 0.4)):
            z = rng.uniform(4, min(zmax, 35))
            x = rx + rng.choice([-1, 1]) * (rw - rng.uniform(0.6, 1.5))
            wheel_h = 0.95 if kind == 'bicycle' else 1.1
            ride = rng.random() < 0.85
            add(z, lambda x=x, z=z, k=kind, hh=wheel_h: _sprite(
                cv, x, z, 0.8, hh, _two_wheeler(rng, k)))
            if ride:
                add(z - 0.1, lambda x=x, z=z, hh=wheel_h,
                    s=_person_shape(rng, _T['rider']): _sprite(
                    cv, x, z - 0.1, 0.55, 1.15, s, y_base=hh - 0.35))
    # parked bicycles on the sidewalk (bicycle without rider)
    for _ in range(rng.poisson(1.0)):
        side = rng.choice([-1, 1])
        z = rng.uniform(4, min(zmax, 30))
        add(z, lambda x=rx + side * (rw + 0.9), z=z: _sprite(
            cv, x, z, 0.6, 0.95, _two_wheeler(rng, 'bicycle')))
    for _, fn in sorted(items, key=lambda it: -it[0]):
        fn()


def _layout(rng, st):
    road_half = rng.uniform(*st['road_half'])
    sidewalk_l, sidewalk_r = rng.uniform(*st['sidewalk'], 2)
    sun_side = rng.choice([-1, 1])
    bright, dim = rng.uniform(0.95, 1.1), rng.uniform(0.6, 0.85)
    z_end = rng.uniform(*st['end_depth']) if rng.random() < st['closed_end'] else np.inf
    cross = rng.random() < st['intersection']
    cross_z = rng.uniform(12, 45) if cross else np.inf
    if cross_z + 16 > z_end:
        cross_z = np.inf
    grey = rng.uniform(0.85, 1.15)  # asphalt shade: luminance, not hue
    return dict(
        style=st,
        road_x=rng.uniform(-1.0, 1.0),
        road_half=road_half,
        sidewalk_l=sidewalk_l, sidewalk_r=sidewalk_r,
        verge_l=rng.random() < 0.45, verge_r=rng.random() < 0.45,
        facade_l=road_half + sidewalk_l + rng.uniform(*st['facade_gap']),
        facade_r=road_half + sidewalk_r + rng.uniform(*st['facade_gap']),
        z_end=z_end,
        cross_z=cross_z, cross_w=rng.uniform(7, 14),
        road_rgb=np.clip(np.asarray(st['road_rgb'], np.float32) / 255 * grey
                         + rng.uniform(-0.015, 0.015, 3), 0, 1).astype(np.float32),
        patch_rgb=np.clip(np.asarray(st['road_rgb'], np.float32) / 255 * grey
                          * rng.uniform(0.75, 1.2), 0, 1).astype(np.float32),
        side_rgb=_vary(rng, st['side_rgb'], 0.08),
        terrain_rgb=_vary(rng, st['terrain_rgb'], 0.1),
        centre_line=rng.random() < 0.7,
        zebra_z=(cross_z - 3.5 if np.isfinite(cross_z) and rng.random() < 0.7 else
                 rng.uniform(6, 40) if rng.random() < 0.3 else 1e9),
        sun_side=sun_side,
        shadow_edge=rng.uniform(-2.0, road_half),
        shadow=rng.uniform(*st['shadow']),
        light_l=bright if sun_side < 0 else dim,
        light_r=bright if sun_side > 0 else dim,
        light_end=rng.uniform(0.75, 0.95),
    )


def _in_crossing(lay, z):
    """Depths inside the cross street of an intersection."""
    return (z >= lay['cross_z']) & (z < lay['cross_z'] + lay['cross_w'])


#: City styles (ranges are uniform draws, counts Poisson means): 'source' is the
#: default city; 'target' differs in palette and
#: textures (brick and pastel facades, cobbled roads, autumn trees), lighting (low
#: warm sun, deep shadows), layout statistics (narrower streets, taller and denser
#: buildings) and class frequencies (more people, bicycles and trees, fewer cars).
STYLES = {
    'source': dict(
        road_half=(3.5, 7.0), sidewalk=(1.8, 4.5), facade_gap=(0.0, 4.0),
        building_h=(6, 28), facade_kinds=(0.62, 0.2, 0.18), closed_end=0.6,
        end_depth=(50, 160), palette=((150, 140, 130), (170, 120, 100), (120, 120, 125),
                                      (190, 180, 160), (110, 95, 90), (160, 160, 170),
                                      (200, 190, 175), (95, 100, 110)),
        road_rgb=(85, 85, 90), road_texture='asphalt', side_rgb=(170, 160, 160),
        terrain_rgb=(150, 170, 80), leaves_rgb=(70, 110, 40), sky=((70, 120, 200),
                                                                 (185, 205, 230)),
        tint=(1.0, 1.0, 1.0), exposure=(0.8, 1.15), shadow=(0.55, 0.8),
        cars=3.5, parked=2.5, persons=5.0, trees=3.5, clutter=2.0, intersection=0.45,
        rare=dict(truck=0.45, bus=0.35, train=0.2, bicycle=0.55, motorcycle=0.45)),
    'target': dict(
        road_half=(2.6, 4.5), sidewalk=(1.2, 3.0), facade_gap=(0.0, 1.0),
        building_h=(12, 40), facade_kinds=(0.82, 0.06, 0.12), closed_end=0.8,
        end_depth=(30, 100), palette=((165, 80, 60), (190, 110, 80), (215, 190, 150),
                                      (180, 200, 190), (200, 160, 170), (140, 60, 50),
                                      (230, 215, 180), (120, 140, 150)),
        road_rgb=(112, 102, 96), road_texture='cobble', side_rgb=(190, 172, 150),
        terrain_rgb=(165, 150, 70), leaves_rgb=(150, 115, 40), sky=((140, 150, 180),
                                                                  (235, 205, 175)),
        tint=(1.06, 0.97, 0.85), exposure=(0.7, 1.0), shadow=(0.38, 0.6),
        cars=1.0, parked=0.6, persons=10.0, trees=5.0, clutter=3.0, intersection=0.65,
        rare=dict(truck=0.2, bus=0.5, train=0.35, bicycle=0.9, motorcycle=0.3)),
}


def render_scene(seed, height=128, width=256, style='source', with_camera=False):
    """Renders one ProcCity scene.

    Args:
        seed (int): Seed of the scene; the same seed gives the same arrays.
        height (int): Image height in pixels. Default: 128.
        width (int): Image width in pixels. Default: 256.
        style (str): 'source' (the default city) or 'target' (another palette,
            texture, lighting, street layout and class mix; see ``STYLES``).
            Default: 'source'.
        with_camera (bool): Also return the scene's :class:`.camera.Camera`.
            Default: False.

    Returns:
        tuple: ``img`` (H, W, 3) uint8 RGB, ``label`` (H, W) uint8 Cityscapes
        trainIds, ``depth`` (H, W) float32 metres along the optical axis (``inf``
        for sky), and the camera when ``with_camera``.
    """
    import cv2
    if height < 16 or width < 16:
        raise ValueError(f'ProcCity image size must be at least 16x16, got {height}x{width}')
    if style not in STYLES:
        raise ValueError(f'unknown ProcCity style {style!r}; expected one of {sorted(STYLES)}')
    rng = np.random.default_rng(seed)
    st = STYLES[style]
    cv = _Canvas(rng, height, width)
    lay = _layout(rng, st)
    _draw_sky(cv, st, overcast=rng.random() < 0.3)
    _draw_end(cv, lay)
    _draw_ground(cv, lay)
    _draw_street_sides(cv, lay)
    _draw_objects(cv, lay)
    # global exposure and white balance, then the lens point-spread (slight blur)
    exposure = rng.uniform(*st['exposure'])
    tint = (rng.uniform(0.95, 1.05, 3) * st['tint']).astype(np.float32)
    img = np.clip(cv.color * exposure * tint, 0, 1)
    img = cv2.GaussianBlur(img, (3, 3), 0.5)
    img = (img * 255.0 + 0.5).astype(np.uint8)
    if with_camera:
        return img, cv.label, cv.depth, cv.camera
    return img, cv.label, cv.depth
