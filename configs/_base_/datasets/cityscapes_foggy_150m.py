# Foggy Cityscapes (Sakaridis et al., IJCV 2018), beta = 0.02 (visibility 150 m):
# leftImg8bit_foggy/{split}/<city>/*_leftImg8bit_foggy_beta_0.02.png, labels of gtFine/{split}.
_base_ = ['./cityscapes.py']
_domain = dict(type='FoggyCityscapesDataset', beta=0.02, name='fog150m', domain=150)
data = dict(
    train=dict(_domain, subset='train', _delete_=True, data_root={{_base_.data_root}},
               validate='exists', pipeline={{_base_.train_pipeline}}),
    val=dict(_domain, subset='val', _delete_=True, data_root={{_base_.data_root}},
             validate='exists', pipeline={{_base_.test_pipeline}}),
    test=dict(_domain, subset='val', _delete_=True, data_root={{_base_.data_root}},
              validate='exists', pipeline={{_base_.test_pipeline}}))
