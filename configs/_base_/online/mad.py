# HAMLET modular training: MAD chooses how deep each backward pass goes. Needs a
# segmentor that takes `train_from_module` (ModularEncoderDecoder).
_base_ = ['online_runner.py']
runner = dict(modular_training=True, training_policy='mad', total_modules=4, alpha=0.1,
              temperature=1.0, mad_time_update=True)
