# Genetic search (NSGA-II) of DACS' online hyper-parameters on the demo's ProcCity stream:
# Pareto front of mean stream mIoU vs adaptation frames/s.
#   python tools/search.py configs/search/proccity_mit-b0_dacs_nsga2.py
# Several workers share the study: same command with --worker-id K (and a
# postgresql:// --storage to spread them over machines).
_base_ = ['../online/proccity_mit-b0_dacs.py', '../_base_/search/nsga2.py']
search = dict(
    params={
        'optimizer.lr': dict(type='float', low=1e-5, high=1e-3, log=True),
        'uda.alpha': dict(type='float', low=0.9, high=0.999),
        'uda.pseudo_threshold': dict(type='float', low=0.7, high=0.97),
        'uda.mix_loss_weight': dict(type='float', low=0.5, high=1.5),
        'runner.replay_buffer_size': dict(type='categorical', choices=[0, 16, 64]),
    },
    objectives=[dict(metric='mIoU', direction='maximize'),
                dict(metric='adapt_fps', direction='maximize')],
    study_name='proccity_mit-b0_dacs',
    work_dir='work_dirs/search')
# A trial evaluates only the domains its stream visits (a shortened stream, e.g.
# runner.domain_order=[clear,200mm], evaluates two sets, not every condition).
online_evaluation = dict(eval_domains='stream')
