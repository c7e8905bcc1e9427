# model settings
# The 1/4-width CIFAR ResNet-18 of the Digits-LT demo with a stride-2 first stage: at 28 px the
# stages run at 14, 7, 4, 4 px, half the CPU time per image of stride 1 (2.2 vs 4.3 ms for a
# training step, measured on the shared 2-core machine), so a two-stage Glyphs-LT run fits a
# laptop budget. The 1,000-way head is set by the leaf config from the dataset's num_classes.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        stem_channels=16,
        base_channels=16,
        num_stages=4,
        strides=(2, 2, 2, 1),
        out_indices=(3, ),
        style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=128,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5),
    ))
