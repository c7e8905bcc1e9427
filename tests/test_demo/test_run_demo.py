"""A shortened `make demo` end to end through the real tools."""
import json
import os.path as osp

from conftest import REPO_ROOT, run_tool


def test_short_demo_writes_table_results_and_plots(tmp_path):
    work_dir, data_root = tmp_path / 'demo', tmp_path / 'digits_lt'
    proc = run_tool(['python', osp.join(REPO_ROOT, 'tools', 'run_demo.py'), '--work-dir',
                     str(work_dir), '--data-root', str(data_root), '--stage1-epochs', '2',
                     '--stage2-epochs', '1'], timeout=600)
    out = proc.stdout
    for step in ('[1/5]', '[2/5]', '[3/5]', '[4/5]', '[5/5]'):
        assert step in out
    assert 'StageSwitchHook' in out  # progress shows the switch
    results = json.loads((work_dir / 'results.json').read_text())
    assert set(results) == {'stage1', 'stage2', 'stage1_tau_norm'}
    for metrics in results.values():
        for key in ('top1_error', 'mean_class_error', 'many_shot_acc', 'medium_shot_acc',
                    'few_shot_acc'):
            assert 0.0 <= metrics[key] <= 100.0
        total = metrics['top1_error'] + metrics['top1']
        assert abs(total - 100.0) < 1e-6
    table = out[out.index('top1_error'):]
    assert 'stage1' in table and 'stage2' in table
    assert f'{results["stage2"]["mean_class_error"]:.4f}' in table
    for png in ('class_sizes.png', 'per_class_acc.png'):
        assert (work_dir / png).read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert (work_dir / 'train' / 'epoch_2.pth').is_file()
    assert (work_dir / 'train' / 'epoch_3.pth').is_file()
