"""DACS online: EMA teacher, reference model, pseudo-labels, mixing, switches."""
import copy
import random

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmcv import Config
from mmcv.runner import load_state_dict as mmcv_load_state_dict

from mmseg_ext.models import build_train_model
from mmseg_ext.models.uda.ema import ema_alpha, ema_tensors, ema_update
from mmseg_ext.models.uda.uda_decorator import frozen_norm_stats


def build(model_cfg, seg_type='CustomEncoderDecoder', **uda):
    torch.manual_seed(0)
    cfg = Config(dict(model=model_cfg(seg_type), uda=dict(type='DACS', **uda)))
    return build_train_model(cfg)


def seed_all(seed):
    """Seeds the three generators a DACS step draws from (as DAFormer: Python's
    random for the augmentation decisions, NumPy for the ClassMix choice and the
    blur sigma, torch for the jitter factors)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def snapshot(module):
    return {n: p.detach().clone() for n, p in module.named_parameters()}


def optimizer(model, lr=1e-3):
    return torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)


def test_no_reference_model_without_feature_distance(model_cfg):
    plain = build(model_cfg)
    n_student = sum(p.numel() for p in plain.model.parameters())
    assert plain.ref_model is None
    assert not any(k.startswith('ref_model') for k in plain.state_dict())
    assert sum(p.numel() for p in plain.parameters()) == 2 * n_student  # + teacher
    fd = build(model_cfg, imnet_feature_dist_lambda=0.005,
               imnet_feature_dist_classes=[6, 7, 11, 12, 13, 14, 15, 16, 17, 18])
    assert sum(p.numel() for p in fd.parameters()) == 3 * n_student
    assert not any(p.requires_grad for p in fd.ref_model.parameters())


def test_two_steps_update_student_teacher_by_ema_and_keep_reference(model_cfg,
                                                                    make_batch):
    model = build(model_cfg, imnet_feature_dist_lambda=0.005, alpha=0.999)
    student0 = snapshot(model.model)
    opt = optimizer(model)
    out = model.train_step(make_batch(seed=0), opt)
    assert out['num_samples'] == 1 and out['log_vars']['src.decode.loss_ce'] > 0
    student1 = snapshot(model.model)
    # step 0: the teacher and the reference are copies of the source student
    for name, value in snapshot(model.ema_model).items():
        assert torch.equal(value, student0[name])
    assert any(not torch.equal(student1[n], student0[n]) for n in student0)
    model.train_step(make_batch(seed=1), opt)
    alpha_1 = ema_alpha(1, 0.999)
    assert alpha_1 == 0.5
    for name, value in snapshot(model.ema_model).items():
        expected = alpha_1 * student0[name] + (1 - alpha_1) * student1[name]
        assert torch.allclose(value, expected, atol=1e-7), name
    for name, value in snapshot(model.ref_model).items():
        assert torch.equal(value, student0[name])
    assert int(model.local_iter) == 2


def test_ema_alpha_warmup():
    assert [ema_alpha(t, 0.99) for t in (1, 3, 99, 1000)] == [0.5, 0.75, 0.99, 0.99]


def loop_ema_update(teacher, student, alpha):
    """The per-tensor loop ema_update replaced (the reference)."""
    with torch.no_grad():
        for t, s in zip(teacher.parameters(), student.parameters()):
            t.mul_(alpha).add_(s.detach(), alpha=1.0 - alpha)
        for t, s in zip(teacher.buffers(), student.buffers()):
            if t.is_floating_point():
                t.copy_(s)


def tensors_of(module):
    return list(module.state_dict().values())


@pytest.mark.parametrize('precomputed', [False, True])
def test_ema_update_equals_the_per_tensor_loop(precomputed):
    torch.manual_seed(0)
    student = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 2, 1),
                            nn.Linear(5, 3).double())
    student[0].bias.requires_grad_(False)  # frozen parameters are averaged too
    student.train()[:2](torch.randn(2, 3, 7, 7))  # batch-norm statistics move
    teacher = copy.deepcopy(student)
    with torch.no_grad():
        for p in teacher.parameters():
            p.add_(torch.randn_like(p))
    teacher[1].num_batches_tracked.fill_(7)  # integer buffers are left alone
    expected = copy.deepcopy(teacher)
    tensors = ema_tensors(teacher, student) if precomputed else None
    for alpha in (0.5, 0.9, 0.999):
        with torch.no_grad():
            for p in student.parameters():
                p.add_(0.1 * torch.randn_like(p))
        student[:2](torch.randn(2, 3, 7, 7))
        ema_update(teacher, student, alpha, tensors)
        loop_ema_update(expected, student, alpha)
        for got, ref in zip(tensors_of(teacher), tensors_of(expected)):
            assert got.dtype == ref.dtype and torch.equal(got, ref)
    assert teacher[3].weight.dtype == torch.float64
    assert int(teacher[1].num_batches_tracked) == 7
    assert [len(x) for x in ema_tensors(teacher, student)] == [8, 8, 2, 2]


def test_teacher_update_lists_are_made_again_after_a_move(model_cfg, make_batch):
    model = build(model_cfg, alpha=0.9)
    model.train_step(make_batch(seed=0), optimizer(model))
    model.train_step(make_batch(seed=1), optimizer(model))
    cached = model._ema_cache[2]
    model.update_teacher(model.ema_model, 0.9)
    assert model._ema_cache[2] is cached  # made once, reused every step
    model.to(torch.float64)  # new buffer tensors
    assert model._ema_cache is None
    name = 'decode_head.fusion_conv.bn.running_mean'
    dict(model.model.named_buffers())[name].fill_(3.0)
    model.update_teacher(model.ema_model, 0.9)
    teacher_bn = dict(model.ema_model.named_buffers())[name]
    assert teacher_bn.dtype == torch.float64 and torch.all(teacher_bn == 3.0)


def test_step_count_is_a_host_int_and_resumes(model_cfg, make_batch):
    model = build(model_cfg, alpha=0.99)
    opt = optimizer(model)
    for seed in range(3):
        seed_all(seed)  # the mixing draws from the global generators
        model.train_step(make_batch(seed=seed), opt)
    assert type(model.steps_done) is int and model.steps_done == 3
    assert model.local_iter.item() == 3  # the checkpointed copy follows
    state = copy.deepcopy(model.state_dict())
    for load in (lambda m: m.load_state_dict(state),
                 lambda m: mmcv_load_state_dict(m, state, strict=True)):
        fresh = build(model_cfg, alpha=0.99)
        load(fresh)
        assert fresh.steps_done == 3 and fresh.local_iter.item() == 3
    # the resumed step is step 3 (teacher momentum ema_alpha(3)), as uninterrupted
    fresh_opt = optimizer(fresh)
    fresh_opt.load_state_dict(copy.deepcopy(opt.state_dict()))  # no shared moments
    for method, opt_ in ((model, opt), (fresh, fresh_opt)):
        seed_all(3)
        method.train_step(make_batch(seed=3), opt_)
    assert fresh.steps_done == model.steps_done == 4
    for (n, a), b in zip(model.state_dict().items(), fresh.state_dict().values()):
        assert torch.equal(a, b), n


def test_freeze_backbone_trains_only_the_head(model_cfg, make_batch):
    model = build(model_cfg, freeze_backbone=True)
    before = snapshot(model.model)
    opt = optimizer(model)
    for seed in range(2):
        model.train_step(make_batch(seed=seed), opt)
    after = snapshot(model.model)
    changed = {n for n in before if not torch.equal(before[n], after[n])}
    assert changed and all(n.startswith('decode_head.') for n in changed)
    teacher = snapshot(model.ema_model)
    assert all(torch.equal(teacher[n], before[n]) for n in before
               if n.startswith('backbone.'))
    assert any(not torch.equal(teacher[n], before[n]) for n in changed)


def test_pseudo_label_crop_and_oracle(model_cfg, make_batch):
    model = build(model_cfg, pseudo_threshold=0.01, pseudo_weight_ignore_top=15,
                  pseudo_weight_ignore_bottom=120, pseudo_weight_ref_height=512)
    model.init_snapshots()
    batch = make_batch(h=64, w=128)
    label, weight = model.pseudo_label(batch)
    # 15 / 120 rows at 512 -> 2 / 15 rows at 64; threshold 0.01: all confident
    assert label.shape == (1, 64, 128)
    assert weight[:, :2].sum() == 0 and weight[:, -15:].sum() == 0
    assert torch.all(weight[:, 2:-15] == 1.0)
    oracle = build(model_cfg, oracle=True)
    assert oracle.ema_model is None
    label, weight = oracle.pseudo_label(batch)
    assert torch.equal(label, batch['target_gt_semantic_seg'][:, 0])
    with pytest.raises(KeyError, match='target_gt_semantic_seg'):
        oracle.train_step(make_batch(target_labels=False), optimizer(oracle))


def test_mix_ratio_zero_and_target_only_give_the_target(model_cfg, make_batch):
    model = build(model_cfg, blur=False, color_jitter_probability=1.0)
    b = make_batch(n=2)
    label = torch.randint(0, 19, (2, 64, 128))
    weight = torch.full((2, 64, 128), 0.3)
    img, lbl, w = model.mix(b['img'], b['img_metas'], b['gt_semantic_seg'],
                            b['target_img'], label, weight, ratio=0.0)
    assert torch.equal(img, b['target_img']) and torch.equal(lbl[:, 0], label)
    assert torch.equal(w, weight)
    img, lbl, w = model.mix(b['img'], b['img_metas'], b['gt_semantic_seg'],
                            b['target_img'], label, weight, ratio=1.0)
    assert torch.equal(img, b['img']) and torch.equal(lbl, b['gt_semantic_seg'])
    assert torch.all(w == 1.0)
    model.target_only = True
    img, lbl, _ = model.mix(b['img'], b['img_metas'], b['gt_semantic_seg'],
                            b['target_img'], label, weight, ratio=1.0)
    assert torch.equal(img, b['target_img'])


def test_dacs_tent_and_grad_magnitude_logging(model_cfg, make_batch):
    model = build(model_cfg, entropy_lambda=0.5, log_grad_magnitude=True,
                  target_feature_dist_lambda=0.1)
    logs = model.train_step(make_batch(), optimizer(model))['log_vars']
    for key in ('src.decode.loss_ce', 'mix.decode.loss_ce', 'loss_entropy',
                'loss_tgt_fdist', 'grad_mag.src', 'grad_mag.mix', 'grad_mag.entropy'):
        assert key in logs, key
    assert logs['grad_mag.src'] > 0 and logs['grad_mag.entropy'] > 0
    assert 0 < logs['loss_entropy'] < 0.5 * torch.log(torch.tensor(19.)).item() + 1e-6


def test_modular_training_backpropagates_from_module_k(model_cfg, make_batch):
    model = build(model_cfg, 'ModularEncoderDecoder')
    before = snapshot(model.model)
    model.train_step(make_batch(), optimizer(model), train_from_module=3)
    after = snapshot(model.model)
    changed = {n for n in before if not torch.equal(before[n], after[n])}
    early = ('backbone.patch_embeds.0', 'backbone.blocks.0', 'backbone.norms.0',
             'backbone.patch_embeds.1', 'backbone.blocks.1', 'backbone.norms.1')
    assert not any(n.startswith(early) for n in changed)
    assert any(n.startswith('backbone.blocks.2') for n in changed)
    plain = build(model_cfg)
    assert model.num_modules == 4 and plain.num_modules == 1
    with pytest.raises(TypeError, match='train_from_module=3 needs a modular '
                                        'segmentor.*CustomEncoderDecoder'):
        plain.train_step(make_batch(), optimizer(plain), train_from_module=3)


def test_mmseg_encoder_decoder_gets_weighted_losses(model_cfg, make_batch):
    torch.manual_seed(0)
    cfg = Config(dict(model=model_cfg('EncoderDecoder', 'MixVisionTransformer'),
                      uda=dict(type='DACS')))
    model = build_train_model(cfg).eval()
    b = make_batch()
    args = (model.model, b['img'], b['img_metas'], b['gt_semantic_seg'])
    plain = model.seg_losses(*args)
    ones = model.seg_losses(*args, seg_weight=torch.ones(1, 64, 128))
    zero = model.seg_losses(*args, seg_weight=torch.zeros(1, 64, 128))
    assert torch.allclose(plain['decode.loss_ce'], ones['decode.loss_ce'])
    assert zero['decode.loss_ce'].item() == 0.0
    model.train()
    assert model.train_step(b, optimizer(model))['log_vars']['mix.decode.loss_ce'] > 0


def test_resume_from_state_dict(model_cfg, make_batch):
    model = build(model_cfg)
    opt = optimizer(model)
    for seed in range(2):
        model.train_step(make_batch(seed=seed), opt)
    fresh = build(model_cfg)
    fresh.load_state_dict(model.state_dict())
    assert int(fresh.local_iter) == 2
    for (n, a), (_, b) in zip(model.state_dict().items(), fresh.state_dict().items()):
        assert torch.equal(a, b), n


@pytest.mark.parametrize('key, value, match', [
    ('pseudo_threshold', 1.5, r'pseudo_threshold must be in \(0, 1\)'),
    ('pseudo_threshold', 0.0, r'pseudo_threshold must be in \(0, 1\)'),
    ('imnet_feature_dist_classes', [6, 19], r'imnet_feature_dist_classes \[19\]'),
    ('teacher_mode', 'ema', 'teacher_mode must be one of'),
    ('mix_loss_weight', -1, 'mix_loss_weight must be >= 0'),
])
def test_bad_values_name_the_key(model_cfg, key, value, match):
    with pytest.raises(ValueError, match=match):
        build(model_cfg, **{key: value})


def test_source_keys_required(model_cfg, make_batch):
    model = build(model_cfg)
    with pytest.raises(KeyError, match=r"no \['img', 'img_metas', 'gt_semantic_seg'\]"):
        model.train_step(make_batch(source=False), optimizer(model))


def test_adapters_train_and_teacher_modes(model_cfg, make_batch):
    """Frozen backbone with late adapters: student trains adapters + head; a
    'pretrained' teacher is the model with adapters switched off."""
    cfg = model_cfg()
    cfg['backbone'].update(type='MixTransformerAdapter', adapt_blocks=[3],
                           adapter_cfg=dict(dropout=0.0))
    torch.manual_seed(0)
    model = build_train_model(Config(dict(model=cfg, uda=dict(
        type='DACS', freeze_backbone=True, trainable_keys=['adapter'],
        teacher_mode='pretrained'))))
    before = snapshot(model.model)
    opt = optimizer(model, lr=1e-2)
    for seed in range(2):
        model.train_step(make_batch(seed=seed), opt)
    after = snapshot(model.model)
    changed = {n for n in before if not torch.equal(before[n], after[n])}
    assert any('adapter' in n for n in changed)
    assert all('adapter' in n or n.startswith('decode_head.') for n in changed)
    # a 'pretrained' teacher is never EMA-updated: it stays the source model
    for n, p in model.ema_model.named_parameters():
        assert torch.equal(p, before[n]), n
    # the teacher's adapters are off: its backbone output ignores their weights
    b = make_batch()
    teacher = model.ema_model
    with torch.no_grad():
        out = teacher.extract_feat(b['target_img'])[-1]
        for n, p in teacher.named_parameters():
            if 'adapter' in n:
                p.add_(1.0)
        assert torch.equal(out, teacher.extract_feat(b['target_img'])[-1])


@pytest.mark.parametrize('norm_eval', [True, False])
def test_norm_eval_keeps_source_batchnorm_statistics(model_cfg, make_batch, norm_eval):
    model = build(model_cfg, norm_stats=dict(student='running' if norm_eval else 'batch'))
    bns = {n: m for n, m in model.model.named_modules()
           if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)}
    assert bns, 'the fixture segmentor has BatchNorm layers'
    before = {n: m.running_mean.clone() for n, m in bns.items()}
    model.train_step(make_batch(seed=0), optimizer(model))
    same = [torch.equal(before[n], m.running_mean) for n, m in bns.items()]
    assert all(same) if norm_eval else not any(same)
    assert model.model.training  # the rest of the student trains as usual


def test_target_norm_stats_fold_the_target_batch_statistics(model_cfg, make_batch):
    """AdaBN online: after a step the running statistics are the ones of a step
    without the key, folded with the layer momentum with the target frame's
    batch statistics (computed with the pre-step weights)."""
    plain = build(model_cfg)
    adabn = build(model_cfg, norm_stats=dict(target_pass=True))
    batch = make_batch(seed=0)
    # the target frame's batch statistics: a momentum-1 train-mode forward
    ref = copy.deepcopy(adabn.model).train()
    for m in ref.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.momentum = 1.0
    with torch.no_grad():
        ref.encode_decode(batch['target_img'], batch['target_img_metas'])
    for model in (plain, adabn):  # same ClassMix draws
        seed_all(1)
        model.train_step(copy.deepcopy(batch), optimizer(model))
    bns = [n for n, m in adabn.model.named_modules()
           if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert bns
    mods = [dict(net.named_modules()) for net in (plain.model, adabn.model, ref)]
    for n in bns:
        p, a, r = (m[n] for m in mods)
        for stat in ('running_mean', 'running_var'):
            want = (1 - a.momentum) * getattr(p, stat) + a.momentum * getattr(r, stat)
            assert torch.allclose(getattr(a, stat), want, atol=1e-6), (n, stat)
    # the gradient step itself is the plain one
    for (n, x), (_, y) in zip(plain.model.named_parameters(),
                              adabn.model.named_parameters()):
        assert torch.allclose(x, y, atol=1e-7), n


def test_target_pass_contradicts_running_student(model_cfg):
    with pytest.raises(ValueError, match="target_pass=True updates .* student='running'"):
        build(model_cfg, norm_stats=dict(student='running', target_pass=True))


@pytest.mark.parametrize('source_norm_stats', [True, False])
def test_source_norm_stats_switches_the_source_pass_update(model_cfg, make_batch,
                                                           source_norm_stats):
    # mix_loss_weight=0: the source pass is the step's only train-mode forward
    model = build(model_cfg, mix_loss_weight=0.0,
                  norm_stats=dict(source_pass=source_norm_stats))
    bns = {n: m for n, m in model.model.named_modules()
           if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)}
    before = {n: m.running_var.clone() for n, m in bns.items()}
    out = model.train_step(make_batch(seed=0), optimizer(model))
    assert out['log_vars']['src.decode.loss_ce'] > 0  # the source loss still trains
    same = [torch.equal(before[n], m.running_var) for n, m in bns.items()]
    assert not any(same) if source_norm_stats else all(same)
    assert all(m.momentum == 0.1 for m in bns.values())  # restored


def test_frozen_norm_stats_restores_momentum_on_error():
    net = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4, momentum=0.3),
                        nn.BatchNorm2d(4, momentum=None))
    with pytest.raises(RuntimeError, match='boom'):
        with frozen_norm_stats(net):
            net(torch.randn(2, 3, 4, 4))
            assert torch.equal(net[1].running_mean, torch.zeros(4))
            raise RuntimeError('boom')
    assert (net[1].momentum, net[2].momentum) == (0.3, None)


def aux_model_cfg(model_cfg, seg_type):
    """The tiny segmentor plus an FCN auxiliary head on the last stage."""
    backbone = 'MixTransformer' if seg_type != 'EncoderDecoder' else 'MixVisionTransformer'
    cfg = model_cfg(seg_type, backbone)
    cfg['auxiliary_head'] = dict(
        type='FCNHead', in_channels=16, in_index=3, channels=8, num_convs=1,
        concat_input=False, dropout_ratio=0.0, num_classes=19, align_corners=False,
        norm_cfg=dict(type='BN', requires_grad=True),
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=0.4))
    return cfg


@pytest.mark.parametrize('seg_type', ['CustomEncoderDecoder', 'EncoderDecoder'])
def test_pixel_weights_reach_the_auxiliary_head(model_cfg, make_batch, seg_type):
    """One weighted-loss path: seg_weight scales decode and auxiliary losses alike,
    for the project's segmentor and for mmseg's (through seg_losses)."""
    torch.manual_seed(0)
    model = build_train_model(Config(dict(model=aux_model_cfg(model_cfg, seg_type),
                                          uda=dict(type='DACS')))).eval()
    b = make_batch()
    args = (model.model, b['img'], b['img_metas'], b['gt_semantic_seg'])
    plain = model.seg_losses(*args)
    half = model.seg_losses(*args, seg_weight=torch.full((1, 64, 128), 0.5))
    assert plain['aux.loss_ce'].item() > 0
    for key in ('decode.loss_ce', 'aux.loss_ce'):
        assert torch.allclose(half[key], 0.5 * plain[key], rtol=1e-5), key
    zero = model.seg_losses(*args, seg_weight=torch.zeros(1, 64, 128))
    assert zero['aux.loss_ce'].item() == 0.0 and zero['decode.loss_ce'].item() == 0.0
    model.model.zero_grad()
    zero['aux.loss_ce'].backward()
    aux = list(model.model.auxiliary_head.parameters())
    assert aux and all(p.grad is None or not p.grad.any() for p in aux)


def test_teacher_norm_batch_uses_frame_statistics_and_averages_parameters_only(
        model_cfg, make_batch):
    model = build(model_cfg, alpha=0.9)
    assert model.norm_stats['teacher'] == 'batch'  # the published default
    opt = optimizer(model)
    model.train_step(make_batch(seed=0), opt)
    model.train_step(make_batch(seed=1), opt)
    name = 'decode_head.fusion_conv.bn.running_mean'
    student_bn = dict(model.model.named_buffers())[name]
    teacher_bn = dict(model.ema_model.named_buffers())[name]
    # buffers never averaged nor copied, never moved by the teacher's forwards
    assert torch.equal(teacher_bn, torch.zeros_like(teacher_bn))
    assert not torch.equal(student_bn, teacher_bn)
    # the pseudo-label forward is a train-mode BatchNorm forward of the teacher
    b = make_batch(seed=2)
    probe = copy.deepcopy(model.model)
    probe.load_state_dict(model.ema_model.state_dict())
    with torch.no_grad():
        logits = probe.train().encode_decode(b['target_img'], b['target_img_metas'])
    label, _ = model.pseudo_label(b)
    assert torch.equal(label, logits.argmax(1))
    assert not model.ema_model.training  # modes restored after the block
    assert all(not m.training for m in model.ema_model.modules()
               if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))
    # the variant: eval mode with the student's running statistics copied in
    variant = build(model_cfg, alpha=0.9, norm_stats=dict(teacher='student_running'))
    variant.train_step(make_batch(seed=0), optimizer(variant))
    after_step_0 = dict(variant.model.named_buffers())[name].clone()
    variant.train_step(make_batch(seed=1), optimizer(variant))  # copies, then trains
    assert torch.equal(dict(variant.ema_model.named_buffers())[name], after_step_0)


@pytest.mark.parametrize('key, value', [('jitter_impl', 'kornia'),
                                        ('mix_class_candidates', 'all')])
def test_bad_variant_names_are_refused(model_cfg, key, value):
    with pytest.raises(ValueError, match=f"{key} must be one of .* got '{value}'"):
        build(model_cfg, **{key: value})
