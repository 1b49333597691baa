"""Atomic file writing: a crash leaves the previous complete file, never half of one."""
import os
import os.path as osp
import shutil
import tempfile

__all__ = ['atomic_write', 'atomic_copy']


def atomic_write(data, filename, binary=False):
    """Writes ``data`` (str, bytes, or a function of the open file) atomically."""
    folder = osp.dirname(osp.abspath(filename))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp-', dir=folder)
    try:
        with os.fdopen(fd, 'wb' if binary else 'w') as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filename)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_copy(src, dst):
    """Copies the file ``src`` to ``dst`` atomically (bytes, no re-serialising)."""
    with open(src, 'rb') as f_src:
        atomic_write(lambda f: shutil.copyfileobj(f_src, f), dst, binary=True)
