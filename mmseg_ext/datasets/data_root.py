"""Moving every dataset of a config to another data root."""

__all__ = ['set_data_root']


def set_data_root(data_cfg, root, old_root=None):
    """Sets ``data_root`` of every dataset (nested wrappers and lists included).

    ``data_root`` is resolved when a config file is parsed, so overriding the
    top-level ``data_root`` key (``--cfg-options data_root=...``) does not reach the
    datasets; tools call this with the new value.

    Args:
        data_cfg (dict | list): ``cfg.data`` or any part of it (modified in place).
        root (str): The new data root.
        old_root (str | None): Only replace roots equal to this one (e.g. keep
            ACDC's root when moving Cityscapes); None replaces all. Default: None.

    Returns:
        int: the number of datasets changed.
    """
    changed = 0
    if isinstance(data_cfg, dict):
        if 'data_root' in data_cfg and (old_root is None or data_cfg['data_root'] == old_root):
            data_cfg['data_root'] = root
            changed += 1
        for key, value in data_cfg.items():
            if key != 'data_root':
                changed += set_data_root(value, root, old_root)
    elif isinstance(data_cfg, (list, tuple)):
        for value in data_cfg:
            changed += set_data_root(value, root, old_root)
    return changed
