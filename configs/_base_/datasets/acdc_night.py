# ACDC night (Sakaridis et al., ICCV 2021): rgb_anon/night/{split}/<seq>/*_rgb_anon.png with
# gt/night/{split}/<seq>/*_gt_labelTrainIds.png. Root: acdc_root
# (data_root follows it).
_base_ = ['./cityscapes.py']
data_root = {{_base_.acdc_root}}
_domain = dict(type='ACDCDataset', condition='night', name='acdc_night', domain=2)
data = dict(
    train=dict(_domain, subset='train', _delete_=True, data_root=data_root,
               validate='exists', pipeline={{_base_.train_pipeline}}),
    val=dict(_domain, subset='val', _delete_=True, data_root=data_root,
             validate='exists', pipeline={{_base_.test_pipeline}}),
    test=dict(_domain, subset='val', _delete_=True, data_root=data_root,
              validate='exists', pipeline={{_base_.test_pipeline}}))
