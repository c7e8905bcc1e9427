"""The tiny classifier of the tests: a ResNet-18 with the CIFAR stem and 8 base channels.

Small enough to build, train a step and run on CPU in a fraction of a second; its pooled
feature has 64 channels.
"""


def tiny_classifier(num_classes: int, head_type: str = 'LinearClsHead', **head) -> dict:
    """The model config of the tiny classifier.

    Args:
        num_classes (int): Classes of the head.
        head_type (str): The head's registered type. Defaults to 'LinearClsHead'.
        **head: More head options (e.g. ``loss=dict(type='CrossEntropyLoss')``).

    Returns:
        dict: ``dict(type='ImageClassifier', backbone=..., neck=..., head=...)``.
    """
    return dict(
        type='ImageClassifier',
        backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=8, base_channels=8,
                      out_indices=(3, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type=head_type, num_classes=num_classes, in_channels=64, **head))


def tiny_config_head(num_classes: int, **head) -> str:
    """The first lines of a tiny config file: scope, plugin import, model, preprocessor.

    Args:
        num_classes (int): Classes of the head and the preprocessor.
        **head: More head options, as in :func:`tiny_classifier`.

    Returns:
        str: Python config text, ending with a newline; a test appends its data settings.
    """
    preprocessor = dict(num_classes=num_classes, mean=[127.5] * 3, std=[127.5] * 3,
                        to_rgb=True)
    return (f"default_scope = 'mmpretrain'\n"
            f"custom_imports = dict(imports=['aliprod_plugins'], allow_failed_imports=False)\n"
            f'model = {tiny_classifier(num_classes, **head)!r}\n'
            f'data_preprocessor = {preprocessor!r}\n')


def save_constant_checkpoint(config: str, path: str, bias) -> str:
    """Save the config's model with a head that ignores the image: zero weights, ``bias``.

    Every image then gets the logits ``bias``, so a test knows every score in advance.

    Args:
        config (str): Config file whose ``model`` has a linear head (``head.fc``).
        path (str): Output ``.pth`` (``state_dict`` and an empty ``meta``).
        bias (Sequence[float] | torch.Tensor): The logits, one per class.

    Returns:
        str: ``path``.
    """
    import torch
    from mmengine.config import Config
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config).model)
    with torch.no_grad():
        model.head.fc.weight.zero_()
        model.head.fc.bias.copy_(torch.as_tensor(bias))
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path
