"""A shortened `make demo` end to end through the real tools."""
import csv
import json
import os.path as osp
import sys

import pytest
from conftest import REPO_ROOT, run_tool


def test_short_demo_writes_table_results_and_plots(tmp_path):
    work_dir, data_root = tmp_path / 'demo', tmp_path / 'digits_lt'
    proc = run_tool(['python', osp.join(REPO_ROOT, 'tools', 'run_demo.py'), '--work-dir',
                     str(work_dir), '--data-root', str(data_root), '--stage1-epochs', '2',
                     '--stage2-epochs', '1'], timeout=600)
    out = proc.stdout
    for step in range(1, 8):
        assert f'[{step}/7]' in out
    # whole progress lines, one per epoch, and the switch; not MMEngine's hook table
    for line in ('stage 1  epoch 1/3  loss ', 'stage 1  epoch 2/3  loss ',
                 'stage 2  epoch 3/3  loss ', 'StageSwitchHook: epoch 2'):
        assert line in out
    assert '(ABOVE_NORMAL)' not in out and 'gine - INFO' not in out
    results = json.loads((work_dir / 'results.json').read_text())
    assert set(results) == {'stage1', 'stage1_tta', 'stage2', 'stage2_tta', 'stage1_tau_norm',
                            'infer'}
    for name, metrics in results.items():
        if name == 'infer':
            continue
        for key in ('top1_error', 'mean_class_error', 'many_shot_acc', 'medium_shot_acc',
                    'few_shot_acc'):
            assert 0.0 <= metrics[key] <= 100.0
        # the validation split is balanced (40 images per class): top-1 error is the mean
        # class error, on the validation split and nothing else
        assert metrics['top1_error'] == pytest.approx(metrics['mean_class_error']), name
    # the per-class CSVs of tools/test.py --out: Digits-LT's training profile (seed 0), the
    # head class capped 130 -> 110, and 40 validation images per class
    profile = [7, 3, 57, 25, 110, 17, 86, 38, 5, 11]
    for stage in ('stage1', 'stage2'):
        rows = list(csv.DictReader(open(work_dir / f'{stage}_per_class.csv')))
        assert [int(r['train_count']) for r in rows] == profile
        assert [int(r['eval_count']) for r in rows] == [40] * 10
        acc = [float(r['top1_acc']) for r in rows]
        groups = {'many_shot_acc': [a for a, n in zip(acc, profile) if n > 100],
                  'medium_shot_acc': [a for a, n in zip(acc, profile) if 20 <= n <= 100],
                  'few_shot_acc': [a for a, n in zip(acc, profile) if n < 20]}
        for key, values in groups.items():
            assert results[stage][key] == pytest.approx(sum(values) / len(values), abs=1e-3)
        assert results[stage]['mean_class_error'] == pytest.approx(100 - sum(acc) / 10,
                                                                   abs=1e-3)
    table = out[out.index('| `make demo` (seed 0), % | top-1 error |'):]
    stage2 = results['stage2']
    assert (f'| stage 2 (class-balanced, epoch 3) | {stage2["top1_error"]:.2f} | '
            f'{stage2["mean_class_error"]:.2f} | {stage2["many_shot_acc"]:.2f} |') in table
    assert f'| stage 2 + flip TTA | {results["stage2_tta"]["top1_error"]:.2f} |' in table
    # tools/infer.py with the published checkpoint agrees with tools/test.py, TTA or not
    assert results['infer']['top1_error'] == pytest.approx(stage2['top1_error'])
    assert results['infer']['top1_error_tta'] == pytest.approx(
        results['stage2_tta']['top1_error'])
    (published, ) = work_dir.glob('digits_lt_two_stage-*.pth')
    assert published.stat().st_size < (work_dir / 'train' / 'epoch_3.pth').stat().st_size
    assert (work_dir / 'predictions_tta.csv').is_file()
    for png in ('class_sizes.png', 'per_class_acc.png'):
        assert (work_dir / png).read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert (work_dir / 'train' / 'epoch_2.pth').is_file()
    assert (work_dir / 'train' / 'epoch_3.pth').is_file()


def test_tools_run_with_the_pinned_cpu_settings_whatever_the_callers(tmp_path, monkeypatch):
    from aliprod_plugins.runs import PINNED_ENV, Step, StepRunner, tool_env

    # a caller (or another machine's defaults) asking for other kernels and threads
    monkeypatch.setenv('ATEN_CPU_CAPABILITY', 'avx512')
    monkeypatch.setenv('ONEDNN_MAX_CPU_ISA', 'AVX512_CORE')
    monkeypatch.setenv('OMP_NUM_THREADS', '2')
    log = tmp_path / 'child.log'
    code = tmp_path / 'child.py'
    code.write_text('import os, torch; print(torch.get_num_threads(), '
                    'torch.backends.cpu.get_cpu_capability(), os.environ.get("MKL_CBWR"), '
                    'os.environ["ONEDNN_MAX_CPU_ISA"], '
                    'repr(os.environ.get("CUDA_VISIBLE_DEVICES")))')
    # as the demo starts every tool (run_demo(pin=True))
    StepRunner(tool_env(PINNED_ENV)).run(Step('child', [str(code)], str(log)))
    threads, capability, cbwr, onednn, cuda = log.read_text().split()
    assert (threads, cbwr, onednn, cuda) == ('1', 'AVX2', 'AVX2', "''")
    assert capability in ('AVX2', 'DEFAULT')  # DEFAULT on a CPU without AVX2
    StepRunner(tool_env(None)).run(Step('child', [str(code)], str(log)))  # --no-pin
    assert log.read_text().split()[0] == '2'  # --no-pin keeps the caller's settings


def test_epochs_and_milestones_come_from_the_config(tmp_path, monkeypatch):
    sys.path.insert(0, osp.join(REPO_ROOT, 'tools'))
    import run_demo as demo
    assert demo.demo_epochs(None, None) == (30, 10)  # configs/demo/digits_lt_two_stage.py
    assert demo.demo_epochs(20, None) == (20, 10)
    with pytest.raises(ValueError, match=r'^run_demo\.py: --stage1-epochs expected an int >= 1, '
                       'got 0$'):
        demo.demo_epochs(0, None)
    # another two-stage config: 12 + 4 epochs, milestones 6 and 9
    config = tmp_path / 'two_stage.py'
    config.write_text("custom_hooks = [dict(type='StageSwitchHook', switch_epoch=12)]\n"
                      "param_scheduler = dict(type='MultiStepLR', milestones=[6, 9])\n"
                      "train_cfg = dict(max_epochs=16)\n")
    monkeypatch.setattr(demo, 'TWO_STAGE_CONFIG', str(config))
    seen = []

    class Stop(Exception):
        pass

    def train_step(runner, config, work_dir, log, seed, e1, e2, milestones, *args, **kwargs):
        seen.append((e1, e2, milestones))
        raise Stop

    monkeypatch.setattr(demo, 'train_step', train_step)
    data = tmp_path / 'data'
    data.mkdir()
    (data / 'train.json').write_text('{}')  # found: not built
    for stage1_epochs, expected in ((None, (12, 4, [6, 9])), (4, (4, 4, [2, 3]))):
        with pytest.raises(Stop):
            demo.run_demo(str(tmp_path / 'w'), str(data), stage1_epochs=stage1_epochs)
        assert seen.pop() == expected
