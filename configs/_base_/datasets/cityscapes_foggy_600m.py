# Foggy Cityscapes (Sakaridis et al., IJCV 2018), beta = 0.005 (visibility 600 m): images
# from the foggy download's own tree (foggy_cityscapes_root)
# leftImg8bit_foggy/{split}/<city>/*_leftImg8bit_foggy_beta_0.005.png, labels from
# gtFine/{split} of cityscapes_root.
_base_ = ['./cityscapes.py']
_domain = dict(type='FoggyCityscapesDataset', beta=0.005, name='fog600m', domain=600,
               data_root={{_base_.foggy_cityscapes_root}},
               label_root={{_base_.cityscapes_root}}, validate='exists')
data = dict(
    train=dict(_domain, subset='train', _delete_=True, pipeline={{_base_.train_pipeline}}),
    val=dict(_domain, subset='val', _delete_=True, pipeline={{_base_.test_pipeline}}),
    test=dict(_domain, subset='val', _delete_=True, pipeline={{_base_.test_pipeline}}))
