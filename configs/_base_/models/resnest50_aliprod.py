# model settings
# ResNeSt-50, global average pooling, a fully connected 50,030-way head, softmax cross-entropy.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNeSt',
        depth=50,
        stem_channels=64,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=50030,
        in_channels=2048,
        loss=dict(type='CrossEntropyLoss', use_soft=False, loss_weight=1.0),
        topk=(1, 5),
    ))
