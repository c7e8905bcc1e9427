"""SubmissionWriter: the challenge file format."""
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmpretrain.structures import DataSample

from aliprod_plugins.evaluation import SubmissionWriter


def run(writer, scores, paths, meta):
    evaluator = Evaluator(writer)
    evaluator.dataset_meta = meta
    samples = [DataSample(metainfo={'img_path': p}).set_pred_score(s)
               for s, p in zip(scores, paths)]
    evaluator.process(samples[:2])
    evaluator.process(samples[2:])
    return evaluator.evaluate(len(samples))


def test_writes_id_and_integer_class_id_in_dataset_order(tmp_path):
    out = tmp_path / 'sub' / 'submission.csv'
    scores = torch.tensor([[0.1, 0.9, 0.0], [0.5, 0.5, 0.0], [0.0, 0.2, 0.8]])
    paths = ['/d/test/17.jpg', '/d/test/3.jpg', 'x/a.jpg']
    # class names are the ids; label index 1 is class id 42 here
    res = run(SubmissionWriter(str(out)), scores, paths, {'classes': ('00007', '00042', '50029')})
    assert res == {'submission/num_images': 3}
    # the tie in row 2 goes to the lower index (class 00007)
    assert out.read_text() == 'id,predicted\n17.jpg,42\n3.jpg,7\na.jpg,50029\n'


def test_without_digit_class_names_the_label_index_is_written(tmp_path):
    out = tmp_path / 'submission.csv'
    run(SubmissionWriter(str(out)), torch.eye(3), ['a.jpg', 'b.jpg', 'c.jpg'], None)
    assert out.read_text().splitlines() == ['id,predicted', 'a.jpg,0', 'b.jpg,1', 'c.jpg,2']


def test_bad_inputs_are_named(tmp_path):
    with pytest.raises(ValueError, match='out_file must be a path ending in .csv'):
        SubmissionWriter(str(tmp_path / 'sub.txt'))
    writer = SubmissionWriter(str(tmp_path / 'sub.csv'))
    with pytest.raises(ValueError, match='needs `img_path`'):
        writer.process(None, [{'pred_score': torch.rand(3)}])
