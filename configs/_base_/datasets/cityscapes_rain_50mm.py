# Rainy Cityscapes at 50 mm/h (Halder et al., ICCV 2019; the OnDA/HAMLET storm domains):
# leftImg8bit/{split}/rain/50mm/rainy_image/<city>/..., labels of gtFine/{split}.
_base_ = ['./cityscapes.py']
_domain = dict(type='RainCityscapesDataset', rain_rate=50, name='50mm', domain=50)
data = dict(
    train=dict(_domain, subset='train', _delete_=True, data_root={{_base_.data_root}},
               validate='exists', pipeline={{_base_.train_pipeline}}),
    val=dict(_domain, subset='val', _delete_=True, data_root={{_base_.data_root}},
             validate='exists', pipeline={{_base_.test_pipeline}}),
    test=dict(_domain, subset='val', _delete_=True, data_root={{_base_.data_root}},
              validate='exists', pipeline={{_base_.test_pipeline}}))
