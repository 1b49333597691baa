# HAMLET as published (Colomer et al., "To Adapt or Not to Adapt? Real-Time Adaptation
# for Semantic Segmentation", ICCV 2023; defaults of MarcBotet/hamlet experiments.py,
# config.py and mmseg/apis/train.py for Cityscapes -> increasing storm):
# * detector: CE of the frozen source model's module-1 lightweight decoder against the
#   student's prediction, means of 75-frame windows, a change at |jump| > 0.23;
# * budget: 750 frames x jump / 0.23 after a rise (x 0.25..0.75 over the domain range
#   after a fall), plus what was left, at most 4450; nothing trains before a change;
# * lr: the optimizer's lr x 1..4 over the domain range (lr_far_domain = 4 lr), the
#   same for every param group, decaying linearly to 0 over the budget;
# * dynamic ClassMix: 0.5 -> 0.25 of the source classes pasted over the domain range;
# * MAD: argmax of the time-weighted gain histogram, learned from the mixed-image loss;
# * source buffer: 1000 source samples chosen by rare-class sampling.
# Needs a ModularEncoderDecoder with a module-1 decoder
# (../models/segformer_mit-b1_modular.py) whose weights hold the trained lightweight
# decoder, a source dataset with rare_class_sampling, and HAMLET's optimizer (AdamW
# 1.5e-5, head x10, batch 1). The thresholds are loss values of HAMLET's MiT-B1 on
# Cityscapes (SHIFT: window 200, domain_range (0.46, 1.85)): other models or data need
# their own.
_base_ = ['online_runner.py']
runner = dict(
    source_buffer=dict(size=1000, policy='rare_class_sampling', read='dataset'),
    controller=dict(
        detector=dict(enabled=True, type='hamlet', signal='reference_loss',
                      reference_module=1, window=75, threshold_up=0.23,
                      threshold_down=-0.23),
        schedule=dict(
            _delete_=True,
            type='hamlet',
            lr_policy='adaptive_slope',  # | 'adaptive_init' (2 x jump ratio added) | 'constant'
            base_iters=750,  # budget before scaling by the jump
            max_iters=4450,  # upper bound of a budget
            reduce_training=(0.25, 0.75),  # budget factor after a fall, over domain_range
            domain_range=(0.8, 2.55),  # signal of the source and the farthest domain
            dynamic_mix=(0.5, 0.75),  # target share of ClassMix over domain_range
            lr_far_scale=4.0,  # lr factor at the far end of domain_range
            max_lr_scale=1e-3 / 1.5e-5,  # 'adaptive_init' bound (max_lr / lr)
            uniform_lr=True),  # one lr for every param group (drops the head's x10)
        module_policy=dict(
            enabled=True,
            type='mad',
            loss='mix.decode.loss_ce',  # DACS's mixed-image decode loss
            decay=0.1,
            temperature=1.75,
            time_update=True,
            module_speeds=(4.21, 4.83, 5.11, 5.73))))
