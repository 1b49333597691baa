# HAMLET's modular training alone: MAD (argmax of the gain histogram, HAMLET's
# defaults) chooses how deep each backward pass goes, on every frame. Needs a
# segmentor that takes `train_from_module` (ModularEncoderDecoder) and a method that
# logs the mixed-image loss (DACS); training_policy='mad_sampled' is the project's
# sampled, measured-time variant.
_base_ = ['online_runner.py']
runner = dict(modular_training=True, training_policy='mad', total_modules=4, alpha=0.1,
              temperature=1.75, mad_time_update=True, mad_loss='mix.decode.loss_ce')
