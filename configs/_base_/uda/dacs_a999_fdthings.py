# DAFormer's configuration: EMA 0.999 (the default) and the feature distance to
# the frozen reference restricted to Cityscapes thing classes (pole, traffic
# light, traffic sign, person, rider, car, truck, bus, train, motorcycle,
# bicycle), where DAFormer found the ImageNet features worth preserving.
_base_ = ['dacs.py']
uda = dict(
    alpha=0.999,
    imnet_feature_dist_lambda=0.005,
    imnet_feature_dist_classes=[6, 7, 11, 12, 13, 14, 15, 16, 17, 18],
    imnet_feature_dist_scale_min_ratio=0.75,
)
