"""Moving the datasets of a config to other data roots."""

__all__ = ['ROOT_FIELDS', 'set_data_root', 'replace_roots']

#: Dataset arguments that hold a root: images (``data_root``) and, for the weather
#: sets that ship without labels, the Cityscapes labels (``label_root``).
ROOT_FIELDS = ('data_root', 'label_root')


def replace_roots(data_cfg, mapping):
    """Replaces every root (``ROOT_FIELDS``) found in ``mapping`` by its new value.

    All replacements happen in one pass, so ``{'a': 'b', 'b': 'a'}`` swaps roots.

    Args:
        data_cfg (dict | list): ``cfg.data`` or any part of it (modified in place;
            nested wrappers and lists included).
        mapping (dict[str, str]): old root -> new root.

    Returns:
        int: the number of root fields changed.
    """
    changed = 0
    if isinstance(data_cfg, dict):
        for key, value in data_cfg.items():
            if key in ROOT_FIELDS:
                if isinstance(value, str) and value in mapping:
                    data_cfg[key] = mapping[value]
                    changed += 1
            else:
                changed += replace_roots(value, mapping)
    elif isinstance(data_cfg, (list, tuple)):
        for value in data_cfg:
            changed += replace_roots(value, mapping)
    return changed


def _all_roots(data_cfg, found):
    if isinstance(data_cfg, dict):
        for key, value in data_cfg.items():
            if key in ROOT_FIELDS and isinstance(value, str):
                found.add(value)
            else:
                _all_roots(value, found)
    elif isinstance(data_cfg, (list, tuple)):
        for value in data_cfg:
            _all_roots(value, found)
    return found


def set_data_root(data_cfg, root, old_root=None):
    """Sets the roots (``data_root``, ``label_root``) of every dataset.

    Args:
        data_cfg (dict | list): ``cfg.data`` or any part of it (modified in place).
        root (str): The new root.
        old_root (str | None): Only replace roots equal to this one (e.g. keep
            ACDC's root when moving Cityscapes); None replaces all. Default: None.

    Returns:
        int: the number of root fields changed.
    """
    olds = _all_roots(data_cfg, set()) if old_root is None else {old_root}
    return replace_roots(data_cfg, {old: root for old in olds})
