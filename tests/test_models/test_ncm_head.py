"""NCMHead: cosine similarity to the class means equals the nearest class mean by hand."""
import numpy as np
import pytest
import torch
from mmpretrain.models.heads import LinearClsHead

from aliprod_plugins.apis.features import add_class_sums, unit_rows
from aliprod_plugins.models import NCMHead


def test_ncm_equals_nearest_class_mean_computed_by_hand():
    train = np.array([[1.0, 0.0], [3.0, 1.0], [0.0, 2.0], [1.0, 5.0], [-1.0, -1.0]])
    labels = np.array([0, 0, 1, 1, 2])
    # class means of the L2-normalised training features, by hand
    unit = train / np.linalg.norm(train, axis=1, keepdims=True)
    means = np.stack([unit[labels == c].mean(0) for c in range(3)])
    sums, counts = torch.zeros(3, 2), torch.zeros(3, dtype=torch.int64)
    add_class_sums(sums, counts, torch.tensor(train, dtype=torch.float32), torch.tensor(labels))
    assert counts.tolist() == [2, 2, 1]

    head = NCMHead(num_classes=3, in_channels=2, scale=2.0)
    with torch.no_grad():  # the means as they are: the head compares directions
        head.fc.weight.copy_(sums / counts[:, None])
        head.fc.bias.zero_()
    queries = np.array([[2.0, 0.1], [0.2, 3.0], [-2.0, -0.5], [1.0, 1.0]])
    scores = head((torch.tensor(queries, dtype=torch.float32), )).numpy()
    cos = (queries / np.linalg.norm(queries, axis=1, keepdims=True)) @ (
        means / np.linalg.norm(means, axis=1, keepdims=True)).T
    np.testing.assert_allclose(scores, 2.0 * cos, rtol=1e-5, atol=1e-6)
    assert scores.argmax(1).tolist() == [0, 1, 2, 0]

    # the original LinearClsHead with the same parameters ranks every image the same way
    # (unit rows, as tools/build_ncm.py writes them)
    linear = LinearClsHead(num_classes=3, in_channels=2)
    linear.load_state_dict(dict(head.state_dict(), **{'fc.weight': unit_rows(sums)}))
    logits = linear((torch.tensor(queries, dtype=torch.float32), )).detach().numpy()
    np.testing.assert_array_equal(np.argsort(-logits, 1), np.argsort(-scores, 1))


def test_ncm_head_is_frozen_and_checks_scale():
    head = NCMHead(num_classes=4, in_channels=3)
    assert not any(p.requires_grad for p in head.parameters())
    with pytest.raises(ValueError, match='NCMHead: scale expected a number > 0'):
        NCMHead(num_classes=4, in_channels=3, scale=0)
