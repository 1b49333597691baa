"""CoTTA: EMA teacher, anchor fallback to augmentation averages, stochastic restore."""
import numpy as np
import pytest
import torch
from mmcv import Config

from mmseg_ext.models import build_train_model
from mmseg_ext.models.uda.cotta import scaled_size


def build(model_cfg, **uda):
    torch.manual_seed(0)
    uda.setdefault('aug_scales', [0.5, 1.0])
    return build_train_model(Config(dict(model=model_cfg(), uda=dict(type='CoTTA', **uda))))


def snapshot(module):
    return {n: p.detach().clone() for n, p in module.named_parameters()}


def test_two_steps_teacher_ema_anchor_fixed(model_cfg, make_batch):
    model = build(model_cfg, alpha=0.9, restore_probability=0.0)
    source = snapshot(model.model)
    opt = torch.optim.AdamW(model.model.parameters(), lr=1e-3)
    teacher = None
    for seed in range(2):
        teacher_prev = snapshot(model.ema_model) if teacher is not None else source
        logs = model.train_step(make_batch(seed=seed, source=False), opt)['log_vars']
        student = snapshot(model.model)
        teacher = snapshot(model.ema_model)
        for n, t in teacher.items():
            assert torch.allclose(t, 0.9 * teacher_prev[n] + 0.1 * student[n],
                                  atol=1e-7), n
    assert logs['tgt.decode.loss_ce'] > 0
    assert any(not torch.equal(student[n], source[n]) for n in source)
    for n, a in snapshot(model.anchor_model).items():
        assert torch.equal(a, source[n])


def test_stochastic_restore_probability_one_returns_to_source(model_cfg, make_batch):
    model = build(model_cfg, restore_probability=1.0)
    source = snapshot(model.model)
    opt = torch.optim.AdamW(model.model.parameters(), lr=1e-2)
    model.train_step(make_batch(source=False), opt)
    for n, p in snapshot(model.model).items():
        assert torch.equal(p, source[n]), n


def test_deployed_prediction_rule(model_cfg, make_batch):
    b = make_batch(n=1)
    img, metas = b['target_img'], b['target_img_metas']
    confident = build(model_cfg, anchor_threshold=1e-6)  # anchor always confident
    with torch.no_grad():
        plain = confident.model.eval().encode_decode(img, metas).argmax(1)
    assert torch.equal(confident.online_inference(img, metas)['pred'], plain)
    unsure = build(model_cfg, anchor_threshold=1 - 1e-6)  # always the average
    averaged = unsure.teacher_aug_probs(img, metas).argmax(1)
    assert torch.equal(unsure.online_inference(img, metas)['pred'], averaged)
    result = unsure.simple_test(img, metas)
    assert len(result) == 1 and isinstance(result[0], np.ndarray)
    assert np.array_equal(result[0], averaged[0].numpy())


@pytest.mark.parametrize('key, value, match', [
    ('anchor_threshold', 1.0, r'anchor_threshold must be in \(0, 1\)'),
    ('restore_probability', 2.0, r'restore_probability must be in \[0, 1\]'),
    ('aug_scales', [], 'aug_scales must be a non-empty list'),
])
def test_bad_values_name_the_key(model_cfg, key, value, match):
    with pytest.raises(ValueError, match=match):
        build(model_cfg, **{key: value})


def test_train_step_takes_the_deployed_prediction_passed_as_inference(model_cfg,
                                                                      make_batch):
    """The runner passes online_inference's output into train_step: the costly
    teacher pass runs once per frame; without it the step computes it."""
    model = build(model_cfg, anchor_threshold=1 - 1e-6)
    batch = make_batch(source=False)
    opt = torch.optim.AdamW(model.model.parameters(), lr=1e-3)
    out = model.online_inference(batch['target_img'], batch['target_img_metas'])
    assert out['probs'].shape[:2] == (1, model.num_classes)
    assert torch.equal(out['pred'], out['probs'].argmax(1))

    def no_second_pass(*args):
        raise AssertionError('teacher augmentation pass ran twice')

    model.teacher_views = no_second_pass
    assert model.train_step(batch, opt, inference=out)['log_vars']['tgt.decode.loss_ce'] > 0
    with pytest.raises(AssertionError, match='ran twice'):
        model.train_step(batch, opt)


def test_scaled_size_rounds_half_up_as_mmcv():
    assert scaled_size((33, 50), 0.75) == (25, 38)
    assert scaled_size((128, 256), 1.75) == (224, 448)


@pytest.mark.parametrize('aug, expected', [
    (dict(aug_scales=[0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]), [('ema_model', 2)] * 7),
    (dict(aug_scales=[0.5, 2.0], aug_flip=False), [('ema_model', 1)] * 3),
])
def test_teacher_runs_one_forward_per_scale_with_the_flip_batched(model_cfg, make_batch,
                                                                  aug, expected):
    """7 scales x flip: 7 teacher forwards of batch 2N (the scale-1 view is not
    computed again for the anchor rule) and 1 anchor forward of batch N; without
    scale 1 the single view is one more forward."""
    model = build(model_cfg, **aug)
    b = make_batch(n=1, source=False)
    calls = []
    for name in ('ema_model', 'anchor_model'):
        orig = getattr(model, name).encode_decode

        def counted(img, metas, orig=orig, name=name):
            calls.append((name, img.shape[0]))
            return orig(img, metas)
        getattr(model, name).encode_decode = counted
    model.online_inference(b['target_img'], b['target_img_metas'])
    assert sorted(calls) == [('anchor_model', 1)] + expected


def test_batched_flips_equal_separate_forwards(model_cfg, make_batch):
    model = build(model_cfg, aug_scales=[0.5, 1.0])
    b = make_batch(n=1, source=False)
    img, metas = b['target_img'], b['target_img_metas']
    model.init_snapshots()
    averaged, plain = model.teacher_views(img, metas)
    with torch.no_grad():
        teacher = model.ema_model
        single = torch.softmax(teacher.encode_decode(img, metas), 1)
        flipped = torch.softmax(teacher.encode_decode(img.flip(-1), metas), 1).flip(-1)
    assert torch.allclose(plain, single, atol=1e-6)
    half = averaged * 4 - plain - flipped  # the two scale-0.5 views
    assert torch.allclose(half.sum(1), torch.full_like(half[:, 0], 2.0), atol=1e-5)


@pytest.mark.parametrize('train_mode', [False, True])
def test_student_mode(model_cfg, make_batch, train_mode):
    model = build(model_cfg, norm_stats=dict(student='batch' if train_mode else 'running'))
    model.train()
    assert model.model.training is train_mode
    assert all(m.training is train_mode for m in model.model.modules())
    assert not model.ema_model.training and not model.anchor_model.training


@pytest.mark.parametrize('copy_stats', [False, True])
def test_teacher_norm_statistics(model_cfg, make_batch, copy_stats):
    model = build(model_cfg, restore_probability=0.0, norm_stats=dict(
        student='batch', teacher='student_running' if copy_stats else 'source'))
    source = {n: b.clone() for n, b in model.model.named_buffers()}
    opt = torch.optim.AdamW(model.model.parameters(), lr=1e-3)
    model.train_step(make_batch(source=False), opt)
    bn = 'decode_head.fusion_conv.bn.running_mean'
    student = dict(model.model.named_buffers())[bn]
    assert not torch.equal(student, source[bn])  # train mode moved it
    teacher = dict(model.ema_model.named_buffers())[bn]
    assert torch.equal(teacher, student if copy_stats else source[bn])


def test_eval_mode_student_with_target_norm_stats_is_refused(model_cfg):
    with pytest.raises(ValueError, match="target_pass=True updates .* student='running'"):
        build(model_cfg, norm_stats=dict(target_pass=True))
