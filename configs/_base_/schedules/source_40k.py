# Source training: 40k iterations, atomic checkpoints every 4k, validation mIoU
# every 4k. The runner loads checkpoints weights-only unless trusted_checkpoint.
runner = dict(
    type='AtomicIterBasedRunner',
    max_iters=40000,
    # an iteration with a NaN/inf loss: 'stop' ends the run naming the iteration and
    # loss terms before the optimizer step; 'skip' takes no step and counts it
    nonfinite_loss='stop')
checkpoint_config = dict(by_epoch=False, interval=4000, max_keep_ckpts=2)
evaluation = dict(interval=4000, metric='mIoU', pre_eval=True, save_best='mIoU')
# Decoder-only fine-tuning: freeze every encoder parameter (and keep it in eval mode;
# the 'encoder' mode of mmseg_ext/models/utils/trainable.py).
freeze_encoder = False
