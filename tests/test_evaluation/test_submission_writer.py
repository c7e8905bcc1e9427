"""SubmissionWriter: the challenge file format, and ids when file names are shared."""
import logging
from contextlib import contextmanager

import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger
from mmpretrain.structures import DataSample

from aliprod_plugins.evaluation import SubmissionWriter


@contextmanager
def _warnings(logger):
    """Collect the warnings ``logger`` (made the current MMLogger) emits."""
    messages = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: messages.append(record.getMessage())
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


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


SAME_NAMES = ['/d/test/a/1.jpg', '/d/test/b/1.jpg', '/d/test/b/2.jpg']


def test_file_names_shared_across_folders_become_relative_paths(tmp_path):
    out = tmp_path / 'submission.csv'
    logger = MMLogger.get_instance('submission_test', log_level='WARNING')
    with _warnings(logger) as messages:
        run(SubmissionWriter(str(out)), torch.eye(3), SAME_NAMES, None)
    assert out.read_text().splitlines() == ['id,predicted', 'a/1.jpg,0', 'b/1.jpg,1',
                                            'b/2.jpg,2']
    assert len(messages) == 1
    assert "1 file name(s) are shared by images in different folders, e.g. '1.jpg': " \
        "'/d/test/a/1.jpg', '/d/test/b/1.jpg'" in messages[0]
    assert "relative to '/d/test'" in messages[0]


def test_unique_names_or_one_image_listed_twice_keep_file_names(tmp_path):
    out = tmp_path / 'submission.csv'
    run(SubmissionWriter(str(out)), torch.eye(3), ['/d/a/1.jpg', '/d/b/2.jpg', '/d/a/1.jpg'],
        None)
    assert out.read_text().splitlines() == ['id,predicted', '1.jpg,0', '2.jpg,1', '1.jpg,2']


def test_id_style_name_refuses_shared_names_and_relpath_always_applies(tmp_path):
    with pytest.raises(ValueError, match=r"submission ids \(file names\) must be unique, got 1 "
                       r"file name\(s\) are shared by images in different folders, e\.g\. "
                       r"'1\.jpg': '/d/test/a/1\.jpg', '/d/test/b/1\.jpg'"):
        run(SubmissionWriter(str(tmp_path / 's.csv'), id_style='name'), torch.eye(3),
            SAME_NAMES, None)
    out = tmp_path / 'rel.csv'
    run(SubmissionWriter(str(out), id_style='relpath'), torch.eye(3),
        ['/d/test/x/1.jpg', '/d/test/x/2.jpg', '/d/test/y/z/3.jpg'], None)
    assert [r.split(',')[0] for r in out.read_text().splitlines()[1:]] == [
        'x/1.jpg', 'x/2.jpg', 'y/z/3.jpg']
    with pytest.raises(ValueError, match="id_style must be one of"):
        SubmissionWriter(str(out), id_style='basename')
