# Rainy Cityscapes at 25 mm/h (Halder et al., ICCV 2019; the OnDA/HAMLET storm domains):
# images from the rain download's own tree (rain_cityscapes_root)
# leftImg8bit/{split}/rain/25mm/rainy_image/<city>/..., labels from gtFine/{split} of
# cityscapes_root.
_base_ = ['./cityscapes.py']
_domain = dict(type='RainCityscapesDataset', rain_rate=25, name='25mm', domain=25,
               data_root={{_base_.rain_cityscapes_root}},
               label_root={{_base_.cityscapes_root}}, validate='exists')
data = dict(
    train=dict(_domain, subset='train', _delete_=True, pipeline={{_base_.train_pipeline}}),
    val=dict(_domain, subset='val', _delete_=True, pipeline={{_base_.test_pipeline}}),
    test=dict(_domain, subset='val', _delete_=True, pipeline={{_base_.test_pipeline}}))
