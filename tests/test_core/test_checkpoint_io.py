"""Checkpoint files: a truncated one is named on every loading path."""
import pytest
import torch

from mmseg_ext.core.checkpoint import atomic_save, load_checkpoint_file


@pytest.mark.parametrize('trusted', [False, True], ids=['default', 'trusted'])
def test_truncated_checkpoint_names_the_file(tmp_path, trusted):
    path = str(tmp_path / 'latest.pth')
    atomic_save(dict(state_dict={'w': torch.randn(64, 64)}), path)
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(RuntimeError, match=rf'could not read checkpoint {path} '
                                           rf'\(truncated or not a checkpoint\?\)'):
        load_checkpoint_file(path, trusted=trusted)
    with pytest.raises(FileNotFoundError, match=r'checkpoint .*nope.pth does not exist'):
        load_checkpoint_file(str(tmp_path / 'nope.pth'), trusted=trusted)


def test_point_latest_links_atomically_and_copies_without_symlinks(tmp_path, monkeypatch):
    from mmseg_ext.core import checkpoint
    for step in (1, 2):
        atomic_save(dict(meta=dict(iter=step)), str(tmp_path / f'iter_{step}.pth'))
        checkpoint.point_latest(str(tmp_path / f'iter_{step}.pth'),
                                str(tmp_path / 'latest.pth'))
        assert (tmp_path / 'latest.pth').readlink().name == f'iter_{step}.pth'
        assert load_checkpoint_file(str(tmp_path / 'latest.pth'))['meta']['iter'] == step
    assert sorted(p.name for p in tmp_path.iterdir()) == ['iter_1.pth', 'iter_2.pth',
                                                          'latest.pth']

    def no_links(*args):
        raise OSError('symbolic links are not supported here')

    monkeypatch.setattr(checkpoint.os, 'symlink', no_links)
    atomic_save(dict(meta=dict(iter=3)), str(tmp_path / 'iter_3.pth'))
    checkpoint.point_latest(str(tmp_path / 'iter_3.pth'), str(tmp_path / 'latest.pth'))
    assert not (tmp_path / 'latest.pth').is_symlink()
    assert (tmp_path / 'latest.pth').read_bytes() == (tmp_path / 'iter_3.pth').read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.tmp-')]
