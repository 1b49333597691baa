"""Shared test setup: CPU only, few threads, the project's registries loaded."""
import os
import os.path as osp

import pytest
import torch

import mmseg_ext  # noqa: F401  (compat fixes and registrations)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '2')))


@pytest.fixture
def repo_root():
    """Absolute path of the repository (configs are resolved against it)."""
    return REPO
