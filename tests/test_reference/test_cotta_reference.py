"""CoTTA's step against an independent reimplementation of its reference code.

Reference: qinenergy/cotta, Cityscapes -> ACDC code, ``single_gpu_cotta`` (CVPR
2022 paper, Sec. 3 and its segmentation setting): every frame, the EMA teacher
predicts through mmseg's test-time augmentation (ratios 0.5..2.0, each also
flipped: 14 views, mmseg's ``inference`` = resize to the original shape, softmax,
unflip), the anchor (frozen source model) gives the scale-1 confidence; where it is
above 0.69 the pseudo-label is the teacher's scale-1 unflipped view, elsewhere the
argmax of the 14-view mean. The student, in eval mode, takes one Adam step on the
decode head's cross-entropy; the teacher averages parameters only (alpha 0.999);
each student ``weight``/``bias`` element returns to its source value where
``torch.rand(p.shape) < 0.01``. Written here from that description, with mmseg's
own ``EncoderDecoder`` (not the project's code).
"""
import copy
import sys

import torch
import torch.nn.functional as F
from mmcv.runner import build_optimizer

from tiny_segformer import build_pair, frames

SCALES = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)


def reference_views(model, img, metas):
    """mmseg's MultiScaleFlipAug order (ratio, then flip) through ``inference``."""
    h, w = img.shape[-2:]
    views = []
    for ratio in SCALES:
        size = (int(h * ratio + 0.5), int(w * ratio + 0.5))
        x = F.interpolate(img, size=size, mode='bilinear', align_corners=False)
        for flip in (False, True):
            meta = [dict(m, img_shape=size + (3, ), flip=flip,
                         flip_direction='horizontal') for m in metas]
            views.append(model.inference(x.flip(-1) if flip else x, meta, rescale=True))
    return views


def reference_step(ref, img, metas, threshold, seed):
    """One ``single_gpu_cotta`` iteration; returns the label, loss and masks."""
    student, teacher, anchor = ref['student'], ref['teacher'], ref['anchor']
    for m in (student, teacher, anchor):
        m.eval()
    with torch.no_grad():
        views = reference_views(teacher, img, metas)
        mean = sum(views) / len(views)
        conf = anchor.inference(img, metas, rescale=True).max(1)[0]
        label = torch.where(conf > threshold, views[SCALES.index(1.0) * 2].argmax(1),
                            mean.argmax(1))
    loss = student.forward_train(img, metas, label[:, None])['decode.loss_ce']
    loss.backward()
    ref['optimizer'].step()
    ref['optimizer'].zero_grad()
    with torch.no_grad():
        for t, s in zip(teacher.parameters(), student.parameters()):
            t.data[:] = 0.999 * t.data + (1 - 0.999) * s.data
    torch.manual_seed(seed)
    masks = {}
    for mod_name, module in student.named_modules():
        for name, p in module.named_parameters(recurse=False):
            if name in ('weight', 'bias') and p.requires_grad:
                full = f'{mod_name}.{name}'
                masks[full] = (torch.rand(p.shape) < 0.01).float()
                p.data = ref['source'][full] * masks[full] + p.data * (1 - masks[full])
    return label, float(loss), masks


def setup(uda):
    method, student = build_pair(dict(type='CoTTA', **uda))
    ref = dict(student=student, teacher=copy.deepcopy(student),
               anchor=copy.deepcopy(student),
               source={k: v.detach().clone() for k, v in student.named_parameters()},
               optimizer=torch.optim.Adam(student.parameters(), lr=1e-3,
                                          betas=(0.9, 0.999)))
    optimizer = torch.optim.Adam(method.model.parameters(), lr=1e-3, betas=(0.9, 0.999))
    return method, ref, optimizer


def median_anchor_confidence(model, img, metas):
    with torch.no_grad():
        return float(model.eval().inference(img, metas, rescale=True).max(1)[0].median())


def test_two_cotta_steps_match_the_reference():
    method, ref, optimizer = setup({})
    img, metas = frames(seed=0)
    # a threshold inside the confidence range, so both branches of the rule act
    threshold = median_anchor_confidence(ref['anchor'], img, metas)
    method.anchor_threshold = threshold
    source_buffers = {k: v.clone() for k, v in method.model.named_buffers()}
    for t in range(2):
        img, metas = frames(seed=t)
        label, loss, masks = reference_step(ref, img, metas, threshold, seed=100 + t)
        pred = method.online_inference(img, metas)['pred']
        assert torch.equal(pred, label)
        torch.manual_seed(100 + t)
        logs = method.train_step(dict(target_img=img, target_img_metas=metas),
                                 optimizer)['log_vars']
        assert abs(logs['tgt.decode.loss_ce'] - loss) <= 1e-5 * loss
        for (name, p), (_, r) in zip(method.model.named_parameters(),
                                     ref['student'].named_parameters()):
            assert torch.allclose(p, r, rtol=1e-5, atol=1e-7), name
            restored = masks[name].bool()
            assert torch.equal(p[restored], ref['source'][name][restored]), name
        for (name, p), r in zip(method.ema_model.named_parameters(),
                                ref['teacher'].parameters()):
            assert torch.allclose(p, r, rtol=1e-5, atol=1e-7), name
    assert sum(int(m.sum()) for m in masks.values()) > 0  # some weights restored
    # eval-mode student and parameter-only EMA: no statistic left the source
    for model in (method.model, method.ema_model):
        for name, buf in model.named_buffers():
            assert torch.equal(buf, source_buffers[name]), name


def test_the_project_variant_is_not_the_reference():
    """The test above can tell the student's mode apart: in train mode
    (drop-path, dropout, batch statistics) the first update differs."""
    method, ref, optimizer = setup(dict(norm_stats=dict(student='batch',
                                                        teacher='student_running')))
    img, metas = frames(seed=0)
    reference_step(ref, img, metas, 0.69, seed=100)
    torch.manual_seed(100)
    method.train_step(dict(target_img=img, target_img_metas=metas), optimizer)
    assert not all(torch.allclose(p, r, rtol=1e-5, atol=1e-7) for p, r in zip(
        method.model.parameters(), ref['student'].parameters()))


def test_experiment_6_uses_cottas_optimizer(repo_root):
    """CoTTA's protocol (``single_gpu_cotta``): Adam, lr 6e-5 / 8, betas
    (0.9, 0.999), no weight decay, one learning rate for every parameter."""
    sys.path.insert(0, repo_root)
    import experiments
    from online_src.apis.sweep import resolve_config
    cfgs = experiments.generate_experiment_cfgs(6)
    assert {c['name_parts']['uda'] for c in cfgs} == {'source', 'tent', 'dacs', 'cotta'}
    method, _ = build_pair(dict(type='CoTTA'))
    for cfg in cfgs:
        optimizer_cfg = resolve_config(cfg, root=repo_root).optimizer
        optimizer = build_optimizer(method, optimizer_cfg)
        assert type(optimizer) is torch.optim.Adam
        assert {(g['lr'], g['betas'], g['weight_decay']) for g in optimizer.param_groups} \
            == {(6e-5 / 8, (0.9, 0.999), 0.0)}
