"""Atomic file writing: a crash leaves the previous complete file, never half of one.

Each file is written to a temporary ``.tmp-*`` file in its folder and renamed into
place. The temporary file gets the permissions of a normal ``open`` (``0o666``
minus the umask; ``mkstemp`` alone makes them owner-only). A full disk ends with
:class:`DiskFullError` naming the file (torch's writer otherwise reports only
"unexpected pos"), and the temporary file is removed. A run killed mid-write can
leave a ``.tmp-*`` file behind: :func:`remove_stale_tmp` clears them at the next
start.
"""
import contextlib
import errno
import glob
import os
import os.path as osp
import shutil
import tempfile

__all__ = ['atomic_write', 'atomic_copy', 'atomic_path', 'remove_stale_tmp',
           'DiskFullError', 'TMP_PREFIX']

TMP_PREFIX = '.tmp-'
# less free space than this after a failed write is read as "disk full"
_FULL_BYTES = 1 << 20


class DiskFullError(OSError):
    """No space left on the device while writing a file (errno ENOSPC)."""


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _disk_full(err, folder):
    """bool: ``err`` (or what caused it) is ENOSPC, or the disk is (nearly) full."""
    while err is not None:
        if isinstance(err, OSError) and err.errno == errno.ENOSPC:
            return True
        err = err.__cause__ or err.__context__
    try:
        return shutil.disk_usage(folder).free < _FULL_BYTES
    except OSError:
        return False


@contextlib.contextmanager
def atomic_path(filename):
    """Yields a temporary path in ``filename``'s folder; renamed to it on success.

    On any error the temporary file is removed; a full disk becomes a
    :class:`DiskFullError` naming ``filename``.
    """
    folder = osp.dirname(osp.abspath(filename))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=folder)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        yield tmp
        os.replace(tmp, filename)
    except BaseException as err:
        full = isinstance(err, Exception) and _disk_full(err, folder)
        if osp.exists(tmp):
            os.remove(tmp)
        if full:
            raise DiskFullError(errno.ENOSPC, f'no space left on device while writing '
                                f'{filename} ({type(err).__name__}: {err}); free '
                                f'space on {folder} and resume') from err
        raise


def atomic_write(data, filename, binary=False):
    """Writes ``data`` (str, bytes, or a function of the open file) atomically."""
    with atomic_path(filename) as tmp:
        with open(tmp, 'wb' if binary else 'w') as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
            f.flush()
            os.fsync(f.fileno())


def atomic_copy(src, dst):
    """Copies the file ``src`` to ``dst`` atomically (bytes, no re-serialising)."""
    with open(src, 'rb') as f_src:
        atomic_write(lambda f: shutil.copyfileobj(f_src, f), dst, binary=True)


def remove_stale_tmp(folder):
    """Removes the ``.tmp-*`` files a killed writer left in ``folder``.

    Call it only while no other process writes there (under the work-dir lock).

    Returns:
        list[str]: the removed paths.
    """
    removed = []
    for path in sorted(glob.glob(osp.join(glob.escape(folder), TMP_PREFIX + '*'))):
        if osp.isfile(path) or osp.islink(path):
            os.remove(path)
            removed.append(path)
    return removed
