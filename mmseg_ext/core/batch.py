"""Collated batches as the models take them."""
import torch
from mmcv.parallel import DataContainer

__all__ = ['unwrap_batch']


def unwrap_batch(batch, device):
    """A collated batch for one device: DataContainers unpacked, tensors moved.

    Args:
        batch (dict): a batch as :func:`mmcv.parallel.collate` makes it.
        device (torch.device): where the tensors go.
    """
    out = {}
    for key, value in batch.items():
        if isinstance(value, DataContainer):
            value = value.data[0]
        if isinstance(value, torch.Tensor):
            value = value.to(device)
        elif isinstance(value, list) and value and isinstance(value[0], torch.Tensor):
            value = [v.to(device) for v in value]
        out[key] = value
    return out
