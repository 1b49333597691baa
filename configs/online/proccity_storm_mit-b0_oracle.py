# Labelled oracle: the demo's DACS (proccity_storm_mit-b0_dacs.py: stream BatchNorm
# statistics, same optimiser) mixing with the target's ground truth instead of
# pseudo-labels (_base_/uda/dacs_oracle.py). The upper bound of what one gradient
# step per frame can gain on a protocol; the report always shows it next to
# source-only and AdaBN (the room left for gradient methods).
_base_ = ['./proccity_storm_mit-b0_dacs.py']
uda = dict(oracle=True)  # as ../_base_/uda/dacs_oracle.py
