"""online_src: the online runner and its parts (replay, domain detector, policies).

It knows the model only through ``train_step``/``val_step``-style calls."""
import mmseg_ext  # noqa: F401  (compat fixes and registries first)

__all__ = []
