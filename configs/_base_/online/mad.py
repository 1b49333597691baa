# HAMLET's modular training alone: MAD (argmax of the gain histogram, HAMLET's
# defaults) chooses how deep each backward pass goes, on every frame. Needs a
# segmentor that takes `train_from_module` (ModularEncoderDecoder) and a method that
# logs the mixed-image loss (DACS); module_policy.type='mad_sampled' is the project's
# sampled, measured-time variant.
_base_ = ['online_runner.py']
runner = dict(controller=dict(module_policy=dict(
    enabled=True, type='mad', total_modules=4, decay=0.1, temperature=1.75,
    time_update=True, loss='mix.decode.loss_ce')))
