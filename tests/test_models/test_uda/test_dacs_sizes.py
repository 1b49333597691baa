"""DACS refuses unequal source/target sizes with the fix in the message."""
import pytest
import torch

from mmseg_ext.models.uda.dacs import check_mix_sizes


def test_equal_sizes_pass_unequal_name_the_pipeline_fix():
    check_mix_sizes(torch.zeros(2, 3, 32, 64), torch.zeros(2, 3, 32, 64))
    with pytest.raises(ValueError, match=r'source images are 512x512 and the target frames '
                       r'512x1024; crop the stream frames .*RandomCrop\(crop_size\)'):
        check_mix_sizes(torch.zeros(1, 3, 512, 512), torch.zeros(1, 3, 512, 1024))
