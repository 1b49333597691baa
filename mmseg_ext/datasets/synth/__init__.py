"""ProcCity scene generator and physically-based weather rendering (no registry)."""
from .camera import Camera, coc_diameter, load_camera, ray_distance, save_camera
from .conditions import CONDITIONS, render_condition, render_rain_scene
from .labels import CLASS_NAMES, IGNORE_INDEX, NUM_CLASSES, PALETTE, TRAIN_ID
from .writers import (CITIES, DEPTH_SCALE, DEPTH_SKY, camera_path, condition_dir, foggy_name,
                     load_depth, rain_dir, save_depth, write_proccity, write_weather)
from .proccity import STYLES, render_scene
from .weather import (beta_tag, drop_flux, estimate_atmospheric_light, fog_beta,
                      forward_scatter, koschmieder, marshall_palmer_slope, rain_extinction,
                      render_fog, render_rain, streak_displacement, terminal_velocity)

__all__ = [
    'CLASS_NAMES', 'IGNORE_INDEX', 'NUM_CLASSES', 'PALETTE', 'TRAIN_ID', 'CITIES',
    'DEPTH_SCALE', 'DEPTH_SKY', 'foggy_name', 'load_depth', 'rain_dir', 'save_depth',
    'write_proccity', 'write_weather', 'render_scene', 'beta_tag',
    'estimate_atmospheric_light', 'fog_beta', 'koschmieder', 'marshall_palmer_slope',
    'rain_extinction', 'drop_flux', 'render_fog', 'render_rain', 'terminal_velocity',
    'Camera', 'coc_diameter', 'load_camera', 'ray_distance', 'save_camera', 'CONDITIONS',
    'render_condition', 'render_rain_scene', 'camera_path', 'condition_dir', 'STYLES',
    'forward_scatter',
    'streak_displacement',
]
