"""Fixtures of the dataset tests: tiny trees in the published layouts."""
import pytest
from dataset_trees import make_acdc_tree, make_cityscapes_tree


@pytest.fixture
def cityscapes_tree(tmp_path):
    return make_cityscapes_tree(str(tmp_path / 'cityscapes'))


@pytest.fixture
def acdc_tree(tmp_path):
    return make_acdc_tree(str(tmp_path / 'acdc'))
