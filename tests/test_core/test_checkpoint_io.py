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
