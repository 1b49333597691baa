"""The lists experiment sweeps cross (read by experiments.py).

Each entry maps a short name (used in run names) to the ``_base_`` files that
implement it and the parts of the run name it sets. Edit these lists to change what
a sweep crosses; ``experiments.py`` decides which ids cross what.
"""
# Source -> target streams: dataset _base_ (source first, targets, val sets; every
# stream draws scenes the source model never trained on), the source model the stream
# starts from (``{model}``: the ``source_model`` of the MODELS entry) with the recipe
# that makes it (quoted when it is missing, before any work), runner overrides and the
# schedule _base_ when the stream's protocol has its own (default SCHEDULE).
_CS_RECIPE = (
    'train it on Cityscapes from the ImageNet MiT weights of NVlabs: python '
    'tools/convert_weights.py mit_b{b}.pth pretrained/mit_b{b}.pth --parts encoder; '
    'python tools/train.py configs/source/segformer_{model}_cityscapes.py --work-dir '
    'work_dirs/segformer_{model}_cityscapes; cp work_dirs/segformer_{model}_cityscapes/'
    'latest.pth {checkpoint}. Or convert the Cityscapes SegFormer released by NVlabs: '
    'python tools/convert_weights.py segformer.b{b}.1024x1024.city.160k.pth {checkpoint} '
    'and run with --cfg-options model.decode_head.type=OriginalSegFormerHead (the '
    'all-MLP head of NVlabs). Details: pretrained/README.md')
DATASETS = dict(
    proccity_storm=dict(
        bases=['configs/_base_/datasets/proccity_storm.py'],
        src='proccity', tgt='storm',
        source_checkpoint='pretrained/proccity_segformer_{model}_source.pth',
        source_recipe=('make demo trains and caches it; or python tools/train.py '
                       'configs/online/proccity_source_mit-b0.py --work-dir work_dirs/src; '
                       'cp work_dirs/src/latest.pth {checkpoint}')),
    cs_storm=dict(
        bases=['configs/_base_/datasets/cityscapes_rain_storm.py'],
        src='cs', tgt='storm',
        source_checkpoint='pretrained/segformer_{model}_cityscapes.pth',
        source_recipe=_CS_RECIPE),
    cs_acdc=dict(
        bases=['configs/_base_/datasets/cityscapes_acdc.py'],
        src='cs', tgt='acdc',
        # CoTTA's order of the ACDC conditions (one pass; CoTTA repeats it 10 times)
        runner=dict(domain_order=['acdc_fog', 'acdc_night', 'acdc_rain', 'acdc_snow']),
        # CoTTA's protocol: every method adapts with its optimizer (Adam 7.5e-6,
        # no weight decay, no x10 head lr)
        schedule=['configs/_base_/schedules/adam_cotta.py'],
        source_checkpoint='pretrained/segformer_{model}_cityscapes.pth',
        source_recipe=_CS_RECIPE),
)
# Models: _base_ files, run-name parts and the source model they start from (an
# adapter model starts from the plain encoder's source model; its adapters are new).
MODELS = dict(
    mitb0=dict(bases=['configs/_base_/models/segformer_mit-b0.py'],
               arch='segformer', backbone='mitb0', source_model='mit-b0'),
    mitb1=dict(bases=['configs/_base_/models/segformer_mit-b1.py'],
               arch='segformer', backbone='mitb1', source_model='mit-b1'),
    mitb1_adapter=dict(bases=['configs/_base_/models/segformer_mit-b1_adapter-half.py'],
                       arch='segformer', backbone='mitb1-adapter', source_model='mit-b1'),
    mitb5=dict(bases=['configs/_base_/models/segformer_mit-b5.py'],
               arch='segformer', backbone='mitb5', source_model='mit-b5'),
)
# Adaptation methods: uda _base_ and runner overrides (source-only only infers). The
# run name's rcs/cpl parts are read from the resolved config, not set here.
METHODS = dict(
    source=dict(bases=['configs/_base_/uda/source_only.py'],
                runner=dict(adapt=False)),
    adabn=dict(bases=['configs/_base_/uda/adabn.py']),
    tent=dict(bases=['configs/_base_/uda/tent.py']),
    dacs=dict(bases=['configs/_base_/uda/dacs.py']),
    dacs_cpl=dict(bases=['configs/_base_/uda/dacs_cpl.py']),
    dacs_adabn=dict(bases=['configs/_base_/uda/dacs_adabn.py']),
    dacs_tent=dict(bases=['configs/_base_/uda/dacs_tent.py']),
    cotta=dict(bases=['configs/_base_/uda/cotta.py']),
)
# The online runner file (one each: mmcv forbids a key in two sibling _base_ files);
# the name is appended to the method in run names.
# MAD needs a segmentor that trains from module k (same weights as the plain one).
_MODULAR = dict(type='ModularEncoderDecoder')
ONLINE_VARIANTS = dict(
    full=dict(base='configs/_base_/online/online_runner.py'),
    budget=dict(base='configs/_base_/online/hamlet_budget.py'),
    mad=dict(base='configs/_base_/online/mad.py', model=_MODULAR),
    budget_mad=dict(base='configs/_base_/online/hamlet_budget_mad.py', model=_MODULAR),
    # HAMLET as published (detector, budget, lr, dynamic ClassMix, MAD, source buffer);
    # needs a source checkpoint with a trained module-1 decoder, and its thresholds
    # are loss values of HAMLET's MiT-B1 on Cityscapes
    hamlet=dict(base='configs/_base_/online/hamlet.py',
                model=dict(type='ModularEncoderDecoder',
                           decode_head=dict(type='ModularSegFormerHead', exit_modules=[1]))),
)
SCHEDULE = ['configs/_base_/schedules/adamw.py']
SEEDS = [0, 1, 2]
LEARNING_RATES = [6e-5, 1.5e-4, 6e-4]
# Frames per visit of a domain (None: each domain set once).
FRAMES_PER_DOMAIN = None
