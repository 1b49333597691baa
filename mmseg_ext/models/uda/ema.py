"""Mean-teacher helpers (Tarvainen & Valpola, NeurIPS 2017) used by DACS and CoTTA."""
import torch

__all__ = ['ema_alpha', 'ema_update', 'copy_weights']


def ema_alpha(step, alpha):
    """DAFormer's warm-up of the teacher momentum: ``min(1 - 1 / (step + 1), alpha)``.

    Args:
        step (int): adaptation steps done so far (>= 1 when updating).
        alpha (float): the target momentum.
    """
    return min(1.0 - 1.0 / (step + 1), alpha)


@torch.no_grad()
def ema_update(teacher, student, alpha):
    """``teacher = alpha * teacher + (1 - alpha) * student`` for every parameter.

    Floating-point buffers (batch-norm running statistics) are copied from the
    student: the teacher runs in eval mode and never updates them itself.

    Args:
        teacher (nn.Module): updated in place.
        student (nn.Module): same architecture.
        alpha (float): momentum in [0, 1].
    """
    for t, s in zip(teacher.parameters(), student.parameters()):
        t.mul_(alpha).add_(s.detach(), alpha=1.0 - alpha)
    for t, s in zip(teacher.buffers(), student.buffers()):
        if t.is_floating_point():
            t.copy_(s)


@torch.no_grad()
def copy_weights(dst, src):
    """Copies ``src``'s parameters and buffers into ``dst`` (same architecture)."""
    dst.load_state_dict(src.state_dict())
