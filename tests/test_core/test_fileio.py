"""The atomic writer: normal permissions, a full disk named, stale temp files."""
import errno
import os
import shutil
from collections import namedtuple

import pytest

from mmseg_ext.core import fileio
from mmseg_ext.core.fileio import (DiskFullError, atomic_copy, atomic_write,
                                   remove_stale_tmp)


def test_written_files_get_the_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write('a', str(tmp_path / 'a.txt'))
        atomic_copy(str(tmp_path / 'a.txt'), str(tmp_path / 'b.txt'))
        os.umask(0o077)
        atomic_write(b'c', str(tmp_path / 'c.bin'), binary=True)
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert modes == {'a.txt': 0o644, 'b.txt': 0o644, 'c.bin': 0o600}


def test_enospc_names_the_file_and_leaves_the_old_one(tmp_path):
    target = str(tmp_path / 'latest.pth')
    atomic_write('complete', target)

    def full(f):
        f.write('half')
        raise OSError(errno.ENOSPC, 'No space left on device')

    with pytest.raises(DiskFullError, match=(
            rf'no space left on device while writing {target} \(OSError: \[Errno 28\] '
            rf'No space left on device\); free space on {tmp_path} and resume')) as err:
        atomic_write(full, target)
    assert err.value.errno == errno.ENOSPC
    assert sorted(os.listdir(tmp_path)) == ['latest.pth']  # temp file removed
    assert open(target).read() == 'complete'


def test_torch_writer_error_on_a_full_disk_is_named(tmp_path, monkeypatch):
    """torch's zip writer reports only 'unexpected pos' when the disk fills up."""
    usage = namedtuple('usage', 'total used free')
    monkeypatch.setattr(shutil, 'disk_usage', lambda p: usage(100, 100, 0))

    def torch_like(f):
        raise RuntimeError('[enforce fail at inline_container.cc:626] . unexpected pos '
                           '64 vs 0')

    with pytest.raises(DiskFullError, match=r'while writing .*x.pth \(RuntimeError: '
                                            r'\[enforce fail.*unexpected pos'):
        atomic_write(torch_like, str(tmp_path / 'x.pth'), binary=True)
    monkeypatch.setattr(shutil, 'disk_usage', lambda p: usage(100, 0, 100 << 20))
    with pytest.raises(RuntimeError, match='unexpected pos'):  # not a full disk
        atomic_write(torch_like, str(tmp_path / 'x.pth'), binary=True)
    assert os.listdir(tmp_path) == []


def test_remove_stale_tmp_only_removes_temp_files(tmp_path):
    for name in ('.tmp-abc', '.tmp-latest-12', 'iter_2.pth', 'results.json'):
        (tmp_path / name).write_text('x')
    removed = remove_stale_tmp(str(tmp_path))
    assert [os.path.basename(p) for p in removed] == ['.tmp-abc', '.tmp-latest-12']
    assert sorted(os.listdir(tmp_path)) == ['iter_2.pth', 'results.json']
    assert fileio.TMP_PREFIX == '.tmp-'
