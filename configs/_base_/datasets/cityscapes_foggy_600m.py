# Foggy Cityscapes (Sakaridis et al., IJCV 2018), beta = 0.005 (visibility 600 m):
# leftImg8bit_foggy/{split}/<city>/*_leftImg8bit_foggy_beta_0.005.png, labels of gtFine/{split}.
_base_ = ['./cityscapes.py']
_domain = dict(type='FoggyCityscapesDataset', beta=0.005, name='fog600m', domain=600)
data = dict(
    train=dict(_domain, subset='train', _delete_=True, data_root={{_base_.data_root}},
               validate='exists', pipeline={{_base_.train_pipeline}}),
    val=dict(_domain, subset='val', _delete_=True, data_root={{_base_.data_root}},
             validate='exists', pipeline={{_base_.test_pipeline}}),
    test=dict(_domain, subset='val', _delete_=True, data_root={{_base_.data_root}},
              validate='exists', pipeline={{_base_.test_pipeline}}))
