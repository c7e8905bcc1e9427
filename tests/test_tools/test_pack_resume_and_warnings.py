"""pack_lmdb.py: a run stopped by an exception completes on the next run; the short-side warning."""
import pytest
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from pack_testing import DEMO_SHORT_SIDE, pack, photo_root_fixture, read_pack, tool_fixture

from aliprod_plugins.datasets import AliProductsDataset
from aliprod_plugins.fileio import packing, read_meta

TRAIN_COUNTS = [7, 5, 3]  # 15 images, none capped by the demo's max_per_class=110


tool = tool_fixture()
root = photo_root_fixture(TRAIN_COUNTS)


def _contents(pack_dir):
    return {k: v for k, v in read_pack(pack_dir).items() if not k.startswith(b'__')}


def test_run_stopped_by_an_exception_completes_on_the_next_run(tool, root, tmp_path,
                                                               monkeypatch, capsys):
    reference = str(tmp_path / 'reference')
    pack(tool, root, reference)
    out = str(tmp_path / 'interrupted')
    calls, real = [], packing._pack_one

    def fail_on_the_tenth(task):
        calls.append(task)
        if len(calls) == 10:
            raise RuntimeError('disk full')
        return real(task)

    monkeypatch.setattr(packing, 'COMMIT_EVERY', 4)
    monkeypatch.setattr(packing, '_pack_one', fail_on_the_tenth)
    with pytest.raises(RuntimeError, match='disk full'):
        pack(tool, root, out)
    assert read_meta(out)['complete'] is False
    assert len(_contents(out)) == 8  # two commits of 4; the batch in progress is lost
    monkeypatch.undo()
    capsys.readouterr()
    pack(tool, root, out)
    printed = capsys.readouterr().out
    assert 'completing the interrupted pack' in printed
    assert '15 images, 7 written, 8 already packed, 0 bad' in printed
    assert read_meta(out)['complete'] is True
    assert _contents(out) == _contents(reference)  # the same bytes as an uninterrupted run


@pytest.mark.parametrize('short_side,warned', [(24, True), (DEMO_SHORT_SIDE, False)])
def test_short_side_below_the_loaders_min_size_is_warned(tool, root, tmp_path, monkeypatch,
                                                         short_side, warned):
    init_default_scope('mmpretrain')
    out = str(tmp_path / 'pack')
    pack(tool, root, out, args=('--workers', '1', '--short-side', str(short_side)))
    seen = []
    monkeypatch.setattr(MMLogger.get_current_instance(), 'warning',
                        lambda msg, *a, **k: seen.append(msg))
    AliProductsDataset(data_root=root, split='train', num_classes=3, max_per_class=110,
                       cap_seed=0, lmdb=out,
                       pipeline=[dict(type='LoadImageScaled', min_size=32)])
    short = [m for m in seen if 'shorter side' in m]
    if warned:
        assert len(short) == 1
        assert 'shorter side 24 px, below min_size=32 of LoadImageScaled' in short[0]
        assert '--short-side >= 32' in short[0]
    else:
        assert short == []
