# Foggy Cityscapes (Sakaridis et al., IJCV 2018), beta = 0.01 (visibility 300 m): images
# from the foggy download's own tree (foggy_cityscapes_root)
# leftImg8bit_foggy/{split}/<city>/*_leftImg8bit_foggy_beta_0.01.png, labels from
# gtFine/{split} of cityscapes_root.
_base_ = ['./cityscapes.py']
_domain = dict(type='FoggyCityscapesDataset', beta=0.01, name='fog300m', domain=300,
               data_root={{_base_.foggy_cityscapes_root}},
               label_root={{_base_.cityscapes_root}}, validate='exists')
data = dict(
    train=dict(_domain, subset='train', _delete_=True, pipeline={{_base_.train_pipeline}}),
    val=dict(_domain, subset='val', _delete_=True, pipeline={{_base_.test_pipeline}}),
    test=dict(_domain, subset='val', _delete_=True, pipeline={{_base_.test_pipeline}}))
