"""bench_methods.py's plan, dry: the steps, their logs and outputs, CPU time per row, the table.

The tools are not run: the runner is replaced by one that writes each step's output (a
``tools/test.py --out``-like JSON) and reports 2 CPU seconds, or the kept ``.cpu`` of a
finished step, as a rerun over an earlier version's work dir would.
"""
import argparse
import json
import os
import os.path as osp
import sys

import pytest
from conftest import REPO_ROOT

from aliprod_plugins.runs import StepTime

sys.path.insert(0, osp.join(REPO_ROOT, 'benchmarks'))
import bench_methods  # noqa: E402


def bench_for(tmp_path, methods=None, noise=0.0, dataset='digits-lt'):
    args = argparse.Namespace(dataset=dataset, seeds=[0, 1], work_dir=str(tmp_path / 'w'),
                              noise=noise, clean_from='early', clean_threshold=0.1,
                              stage1_epochs=20, stage2_epochs=5, methods=methods)
    bench = bench_methods.Bench(args)
    steps = []

    def run(step, on_line=None):
        steps.append(step)
        if osp.isfile(step.log + '.cpu'):  # done by an earlier run
            return StepTime(float(open(step.log + '.cpu').read()), None, True)
        os.makedirs(osp.dirname(step.output), exist_ok=True)
        with open(step.output, 'w') as f:
            json.dump({'metrics': {'mean_class_acc': 80.0 + len(steps), 'few_shot_acc': 50.0}},
                      f)
        return StepTime(2.0, 3.0)

    bench.runner.run = run
    return bench, steps


def test_plan_of_a_seed_steps_logs_and_outputs(tmp_path):
    bench, steps = bench_for(tmp_path)
    assert bench.milestones == [13, 17]  # the stage-1 config's [20, 26] for 30 -> 20 epochs
    res = bench_methods.run_seed(bench, 0)
    w = str(tmp_path / 'w' / 'seed0')
    assert [(s.name, osp.relpath(s.log, w)) for s in steps] == [
        ('stage1', 'stage1.log'), ('stage1', 'stage1_eval_test.log'),
        ('wb', 'wb.log'), ('wb', 'wb_eval_test.log'),
        ('ncm', 'ncm.log'), ('ncm', 'ncm_eval_test.log'),
        ('two_stage', 'two_stage.log'), ('two_stage', 'two_stage_eval_test.log'),
        ('crt', 'crt.log'), ('crt', 'crt_eval_test.log'),
        ('lws', 'lws.log'), ('lws', 'lws_eval_test.log'),
        ('tau_norm', 'tau_norm.log'), ('bs', 'bs.log'), ('bs', 'bs_eval_test.log')]
    assert steps[0].output == f'{w}/stage1/epoch_20.pth'
    assert steps[6].output == f'{w}/two_stage/epoch_25.pth'
    assert '--resume' in steps[6].args and f'{w}/stage1/epoch_20.pth' in steps[6].args
    assert 'param_scheduler.milestones=[13,17]' in steps[0].args
    assert 'custom_hooks.0.switch_epoch=20' in steps[6].args
    assert set(res) == {'stage1', 'wb', 'ncm', 'two_stage', 'crt', 'lws', 'tau_norm', 'bs'}
    assert res['stage1'] == {'mean_class_acc': 82.0, 'few_shot_acc': 50.0}
    assert bench.cpu['stage1'] == {0: 4.0}  # train + test, 2 s each


def test_finished_steps_report_their_kept_cpu_and_the_table_counts_them(tmp_path):
    bench, steps = bench_for(tmp_path, methods=['crt'])
    # seed 0's stage 1 finished by an earlier run: its CPU time kept in <log>.cpu
    w0 = tmp_path / 'w' / 'seed0'
    (w0 / 'stage1').mkdir(parents=True)
    (w0 / 'stage1.log.cpu').write_text('10.000')
    results = [bench_methods.run_seed(bench, s) for s in (0, 1)]
    assert bench.cpu['stage1'] == {0: 12.0, 1: 4.0}
    assert bench.cpu['crt'] == {0: 4.0, 1: 4.0}
    lines = bench_methods.table(bench, results).splitlines()
    assert lines[0] == ('| digits-lt, seeds 0 1 | mean class acc % | few-shot acc % | '
                        'CPU s per seed |')
    # stage-1 accuracy 82 / 86 (the 2nd and 6th step's JSON): mean 84, sample std 2.83
    assert lines[2] == '| stage 1 (instance-balanced) | 84.00 ± 2.83 | 50.00 ± 0.00 | 8 |'
    assert lines[3].startswith('| cRT |') and lines[3].endswith('| 4 (+8 stage 1) |')


def test_glyphs_lt_derives_its_stage2_configs(tmp_path):
    bench, _ = bench_for(tmp_path, dataset='glyphs-lt')
    crt = tmp_path / 'w' / 'configs' / 'glyphs_lt_crt.py'
    assert bench.cfg['crt'] == str(crt)
    assert 'glyphs_lt_stage1.py' in crt.read_text() and 'reinit_head=True' in crt.read_text()


@pytest.mark.parametrize('values, expected', [([1.0, 3.0], '2.00 ± 1.41'), ([5.0], '5.00 ± 0.00'),
                                              ([None], 'n/a')])
def test_mean_std(values, expected):
    assert bench_methods.mean_std(values) == expected
