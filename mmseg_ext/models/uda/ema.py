"""Mean-teacher helpers (Tarvainen & Valpola, NeurIPS 2017) used by DACS and CoTTA."""
import torch

__all__ = ['ema_alpha', 'ema_tensors', 'ema_update', 'copy_weights']


def ema_alpha(step, alpha):
    """DAFormer's warm-up of the teacher momentum: ``min(1 - 1 / (step + 1), alpha)``.

    Args:
        step (int): adaptation steps done so far (>= 1 when updating).
        alpha (float): the target momentum.
    """
    return min(1.0 - 1.0 / (step + 1), alpha)


def ema_tensors(teacher, student):
    """The tensors :func:`ema_update` walks, listed once to be reused every step.

    Args:
        teacher (nn.Module): the EMA teacher.
        student (nn.Module): same architecture.

    Returns:
        tuple[list[Tensor]]: teacher parameters, student parameters (every
        parameter, paired in order), teacher floating-point buffers and the
        student buffers paired with them.
    """
    params = list(zip(teacher.parameters(), student.parameters()))
    buffers = [(t, s) for t, s in zip(teacher.buffers(), student.buffers())
               if t.is_floating_point()]
    return ([t for t, _ in params], [s for _, s in params],
            [t for t, _ in buffers], [s for _, s in buffers])


@torch.no_grad()
def ema_update(teacher, student, alpha, tensors=None):
    """``teacher = alpha * teacher + (1 - alpha) * student`` for every parameter.

    Floating-point buffers (batch-norm running statistics) are copied from the
    student: the teacher runs in eval mode and never updates them itself. The
    update is two multi-tensor ops (``torch._foreach_mul_``, then
    ``torch._foreach_add_``), the same arithmetic as ``t.mul_(alpha).add_(s,
    alpha=1 - alpha)`` per tensor.

    Args:
        teacher (nn.Module): updated in place.
        student (nn.Module): same architecture.
        alpha (float): momentum in [0, 1].
        tensors (tuple | None): :func:`ema_tensors` of the pair, kept by the
            caller; None lists them now. Default: None.
    """
    t_params, s_params, t_buffers, s_buffers = tensors or ema_tensors(teacher, student)
    if t_params:
        torch._foreach_mul_(t_params, alpha)
        torch._foreach_add_(t_params, s_params, alpha=1.0 - alpha)
    if t_buffers:
        torch._foreach_copy_(t_buffers, s_buffers)


@torch.no_grad()
def copy_weights(dst, src):
    """Copies ``src``'s parameters and buffers into ``dst`` (same architecture)."""
    dst.load_state_dict(src.state_dict())
