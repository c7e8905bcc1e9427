"""Long-tail methods side by side on Digits-LT (or Glyphs-LT) over several training seeds.

    python benchmarks/bench_methods.py --seeds 0 1 2
    python benchmarks/bench_methods.py --dataset glyphs-lt --seeds 0 1 2

Per seed, everything through the real tools in subprocesses (``tools/train.py``,
``tools/test.py``, ``tools/tau_norm.py``, ``tools/clean_labels.py``):

* stage 1 (instance-balanced), trained once; the stage-2 variants start from its last
  checkpoint: two-stage (``--resume`` into the two-stage config: the sampler switch exactly as
  in one run), cRT, LWS, tau-norm (tau picked on val, so optimistic);
* Balanced Softmax: its own stage-1-length run;
* weight balancing (``<dataset>_wb_stage1.py`` / ``_wb_stage2.py``: stage 1 with the chosen
  weight decay, shared with the plain stage 1 when that is the same, then the classifier
  fine-tuned with class-balanced sampling, weight decay and MaxNorm) and NCM
  (``tools/build_ncm.py`` on the stage-1 checkpoint, scored with ``<dataset>_ncm.py``);
* with ``--noise`` (default 20%) of the training labels flipped to another class (uniformly,
  fixed noise seed): stage 1 on the noisy labels, then stage 2 from its last checkpoint on the
  noisy labels (no cleaning) or on the labels ``tools/clean_labels.py`` kept (scored with the
  noisy run's checkpoints from before the first LR decay, or ``--clean-from last``), and both
  stages retrained on the kept labels; the cleaner's precision / recall is measured against the
  known flips.

Finished steps are skipped on a rerun (their CPU time is kept next to their log), so seeds can
run side by side (``--seeds 0 &``, ``--seeds 1 &``, ...) and one ``--seeds 0 1 2`` run then
prints the table. The README figures: ``--stage1-epochs 20 --stage2-epochs 5``.

Every model is scored on the clean validation split, with the shot groups of the clean
training split. The table gives the mean and standard deviation over seeds of mean class
accuracy and few-shot accuracy, and each method's CPU time (user + system of the subprocesses
and their workers, per seed; stage-2 variants exclude the stage 1 they share).
"""
import argparse
import json
import os
import os.path as osp
import resource
import subprocess
import sys
import time
from typing import Dict, List

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
TOOLS = osp.join(ROOT, 'tools')
DEMO = osp.join(ROOT, 'configs', 'demo')

# the stage-2 variants as overrides of a dataset's stage-1 config (for datasets without their
# own variant configs; Digits-LT has configs/demo/digits_lt_stage2_{crt,lws}.py, the same)
_STAGE2 = """
load_from = None
train_dataloader = dict(sampler=dict(type='ClassBalancedSampler'))
optim_wrapper = dict(optimizer=dict(lr=0.05){paramwise})
param_scheduler = dict(_delete_=True, type='CosineAnnealingLR', by_epoch=True, T_max=10,
                       eta_min=0.0)
auto_scale_lr = dict(enable=False)
train_cfg = dict(max_epochs=10)
custom_hooks = [dict(type='StageSwitchHook', switch_epoch=0,
                     sampler=dict(type='ClassBalancedSampler'), freeze_backbone=True,
                     reinit_head={reinit}), dict(type='BadImageHook'), dict(type='TrainCountsHook')]
"""
DERIVED = {
    'crt': _STAGE2.format(paramwise='', reinit=True),
    'lws': "model = dict(head=dict(type='LWSHead'))\n" + _STAGE2.format(
        paramwise=", paramwise_cfg=dict(custom_keys={'head.scales': dict(decay_mult=0.0)})",
        reinit=False),
    'bs': """
model = dict(head=dict(loss=dict(_delete_=True, type='BalancedSoftmaxLoss', tau=1.0)))
custom_hooks = [dict(type='ClassPriorHook'), dict(type='BadImageHook'),
                dict(type='TrainCountsHook')]
""",
}
ROWS = [('stage1', 'stage 1 (instance-balanced)'), ('two_stage', 'two-stage (sampler switch)'),
        ('crt', 'cRT'), ('lws', 'LWS'), ('tau_norm', 'tau-norm (tau picked on val)'),
        ('bs', 'Balanced Softmax (one stage)'),
        ('wb', 'weight balancing (WD, then MaxNorm)'),
        ('ncm', 'NCM (cosine to class means, stage-1 features)'),
        ('noisy_two_stage', 'noisy: two-stage'),
        ('cleaned_two_stage', 'noisy: cleaned, then stage 2 only'),
        ('cleaned_retrain', 'noisy: cleaned, two-stage retrained')]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Long-tail methods over seeds')
    parser.add_argument('--dataset', choices=['digits-lt', 'glyphs-lt'], default='digits-lt',
                        help='proxy dataset (default: digits-lt)')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                        help='training seeds (default: 0 1 2)')
    parser.add_argument('--work-dir', default=None,
                        help='keep everything here (default: work_dirs/bench_methods_<dataset>)')
    parser.add_argument('--noise', type=float, default=0.2,
                        help='fraction of training labels flipped (default: 0.2)')
    parser.add_argument('--clean-from', choices=['early', 'last'], default='early',
                        help='noisy stage-1 checkpoints the cleaner scores with: the two before '
                        'the first LR decay, or the last (default: early)')
    parser.add_argument('--clean-threshold', type=float, default=0.1,
                        help='clean_labels.py --threshold (default: 0.1, its default)')
    parser.add_argument('--stage1-epochs', type=int, default=None,
                        help='stage-1 epochs (default: the stage-1 config\'s)')
    parser.add_argument('--stage2-epochs', type=int, default=None,
                        help='epochs of each stage-2 variant (default: the two-stage config\'s)')
    parser.add_argument('--methods', nargs='+', choices=[k for k, _ in ROWS], default=None,
                        help='rows to run (default: all; stage 1 is run for any)')
    return parser.parse_args()


class Bench:
    """Runs the tools for one dataset and keeps the CPU time of each step."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.name = args.dataset.replace('-', '_')
        self.work = osp.abspath(args.work_dir or osp.join(ROOT, 'work_dirs',
                                                          f'bench_methods_{self.name}'))
        self.data = osp.join(self.work, 'data')
        self.cfg = {k: osp.join(DEMO, f'{self.name}_{k}.py') for k in ('stage1', 'two_stage')}
        for key in ('crt', 'lws', 'bs'):
            own = osp.join(DEMO, f'{self.name}_' + dict(crt='stage2_crt', lws='stage2_lws',
                                                        bs='balanced_softmax')[key] + '.py')
            self.cfg[key] = own if osp.isfile(own) else self._derive(key)
        for key, suffix in (('wb1', 'wb_stage1'), ('wb', 'wb_stage2'), ('ncm', 'ncm')):
            self.cfg[key] = osp.join(DEMO, f'{self.name}_{suffix}.py')
        from mmengine.config import Config
        stage1 = Config.fromfile(self.cfg['stage1'])
        # weight balancing shares stage 1 when its weight decay is the plain stage 1's
        self.wb_shares_stage1 = (Config.fromfile(self.cfg['wb1']).optim_wrapper.optimizer
                                 == stage1.optim_wrapper.optimizer)
        two = Config.fromfile(self.cfg['two_stage'])
        switch = [h for h in two.custom_hooks if h['type'] == 'StageSwitchHook'][0]
        self.e1 = args.stage1_epochs or stage1.train_cfg.max_epochs
        self.e2 = args.stage2_epochs or two.train_cfg.max_epochs - switch['switch_epoch']
        scale = self.e1 / stage1.train_cfg.max_epochs
        self.milestones = [max(1, round(m * scale)) for m in stage1.param_scheduler.milestones]
        self.cpu: Dict[str, Dict[int, float]] = {}  # step -> seed -> CPU seconds
        self.current_seed = -1

    def _derive(self, key: str) -> str:
        path = osp.join(self.work, 'configs', f'{self.name}_{key}.py')
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(f"_base_ = [{osp.join(DEMO, self.name + '_stage1.py')!r}]\n" + DERIVED[key])
        return path

    def build_data(self) -> None:
        if osp.isfile(osp.join(self.data, 'train.json')):
            return
        print(f'building {self.args.dataset} in {self.data}', flush=True)
        if self.name == 'digits_lt':
            from aliprod_plugins.demo import build_digits_lt
            build_digits_lt(self.data)
        else:
            from aliprod_plugins.demo import build_glyphs_lt
            build_glyphs_lt(self.data)

    def run(self, step: str, args: List[str], log: str, output: str) -> None:
        """Run a tool unless ``output`` exists; add its CPU time (and its workers') to ``step``.

        The CPU time is kept in ``<log>.cpu``, so that a rerun skips finished steps (after a
        crash, or to print the table of seeds run side by side) and still reports them.
        """
        if osp.exists(output) and osp.isfile(log + '.cpu'):
            with open(log + '.cpu') as f:
                self._add_cpu(step, float(f.read()))
            return
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        # one thread per process: on a shared machine OpenMP threads that spin-wait for a busy
        # core slow every iteration down
        env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
        with open(log, 'w') as f:
            proc = subprocess.run([sys.executable, *args], cwd=ROOT, stdout=f,
                                  stderr=subprocess.STDOUT, env=env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode or not osp.exists(output):
            raise RuntimeError(f'{osp.basename(args[0])} failed (exit {proc.returncode}) or '
                               f'wrote no {output}; see {log}')
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        with open(log + '.cpu', 'w') as f:
            f.write(f'{cpu:.3f}')
        self._add_cpu(step, cpu)

    def _add_cpu(self, step: str, cpu: float) -> None:
        per_seed = self.cpu.setdefault(step, {})
        per_seed[self.current_seed] = per_seed.get(self.current_seed, 0.0) + cpu

    def mean_cpu(self, step: str) -> float:
        """CPU seconds of a step, summed over its tools, averaged over seeds."""
        return float(np.mean(list(self.cpu.get(step, {0: 0.0}).values())))

    def data_opts(self, ann_file: str = None) -> List[str]:
        opts = [f'{s}_dataloader.dataset.data_root={self.data}' for s in ('train', 'val', 'test')]
        if ann_file:
            opts.append(f'train_dataloader.dataset.ann_file={ann_file}')
        return opts

    def train(self, step, key, out, seed, epochs, ann_file=None, resume=None, load=None,
              extra=()) -> str:
        opts = self.data_opts(ann_file) + [
            f'randomness.seed={seed}', f'train_cfg.max_epochs={epochs}',
            'default_hooks.checkpoint.max_keep_ckpts=-1', 'default_hooks.logger.interval=50',
            *extra]
        if load:
            opts.append(f'load_from={load}')
        args = [osp.join(TOOLS, 'train.py'), self.cfg[key], '--work-dir', out, '--no-validate']
        if resume:
            args += ['--resume', resume]
        ckpt = osp.join(out, f'epoch_{epochs}.pth')
        self.run(step, args + ['--cfg-options', *opts], out + '.log', ckpt)
        return ckpt

    def test(self, step, key, ckpt, out) -> Dict[str, float]:
        self.run(step, [osp.join(TOOLS, 'test.py'), self.cfg[key], ckpt, '--work-dir',
                        out, '--out', out + '.json', '--cfg-options', *self.data_opts()],
                 out + '_test.log', out + '.json')
        with open(out + '.json') as f:
            raw = json.load(f)
        raw = raw.get('metrics', raw)
        return {k.split('/')[-1]: v for k, v in raw.items() if isinstance(v, (int, float))}

    def stage1_opts(self) -> List[str]:
        # checkpoints at half the first milestone and at it (before the LR decays: what the
        # cleaner scores with) and at the end of stage 1
        keep = sorted({max(1, self.milestones[0] // 2), self.milestones[0], self.e1})
        interval = int(np.gcd.reduce(keep))
        return [f'param_scheduler.milestones={self.milestones}'.replace(' ', ''),
                f'default_hooks.checkpoint.interval={interval}']

    def want(self, key: str) -> bool:
        return self.args.methods is None or key in self.args.methods

    def seed(self, seed: int) -> Dict[str, Dict[str, float]]:
        w, e1, e2, res = osp.join(self.work, f'seed{seed}'), self.e1, self.e2, {}
        self.current_seed = seed
        os.makedirs(w, exist_ok=True)
        s1 = self.train('stage1', 'stage1', f'{w}/stage1', seed, e1, extra=self.stage1_opts())
        res['stage1'] = self.test('stage1', 'stage1', s1, f'{w}/stage1_eval')
        res.update(self.new_methods(seed, w, s1))
        if self.args.methods is not None:
            return self.selected(seed, w, s1, res)
        two = self.train('two_stage', 'two_stage', f'{w}/two_stage', seed, e1 + e2, resume=s1,
                         extra=self.switch_opts())
        res['two_stage'] = self.test('two_stage', 'two_stage', two, f'{w}/two_stage_eval')
        for key in ('crt', 'lws'):
            ckpt = self.train(key, key, f'{w}/{key}', seed, e2, load=s1,
                              extra=[f'param_scheduler.T_max={e2}'])
            res[key] = self.test(key, key, ckpt, f'{w}/{key}_eval')
        self.run('tau_norm', [osp.join(TOOLS, 'tau_norm.py'), self.cfg['stage1'], s1,
                              '--out-dir', f'{w}/tau_norm', '--device', 'cpu', '--cfg-options',
                              *self.data_opts()], f'{w}/tau_norm.log',
                 f'{w}/tau_norm/best.json')
        with open(f'{w}/tau_norm/best.json') as f:
            res['tau_norm'] = {k.split('/')[-1]: v for k, v in json.load(f)['metrics'].items()}
        bs = self.train('bs', 'bs', f'{w}/bs', seed, e1, extra=self.stage1_opts())
        res['bs'] = self.test('bs', 'bs', bs, f'{w}/bs_eval')
        if self.args.noise > 0:
            res.update(self.noisy(seed, w))
        return res

    def new_methods(self, seed: int, w: str, s1: str) -> Dict[str, Dict[str, float]]:
        """Weight balancing and NCM (the rows of issue 21)."""
        res = {}
        if self.want('wb'):
            wb1 = s1 if self.wb_shares_stage1 else self.train(
                'wb_stage1', 'wb1', f'{w}/wb_stage1', seed, self.e1, extra=self.stage1_opts())
            ckpt = self.train('wb', 'wb', f'{w}/wb', seed, self.e2, load=wb1,
                              extra=[f'param_scheduler.T_max={self.e2}'])
            res['wb'] = self.test('wb', 'wb', ckpt, f'{w}/wb_eval')
        if self.want('ncm'):
            ncm = f'{w}/ncm.pth'
            self.run('ncm', [osp.join(TOOLS, 'build_ncm.py'), self.cfg['stage1'], s1, '--out',
                             ncm, '--device', 'cpu', '--cfg-options', *self.data_opts()],
                     f'{w}/ncm.log', ncm)
            res['ncm'] = self.test('ncm', 'ncm', ncm, f'{w}/ncm_eval')
        return res

    def selected(self, seed: int, w: str, s1: str, res: Dict) -> Dict[str, Dict[str, float]]:
        """With ``--methods``: cRT besides the new rows (the others as in :meth:`seed`)."""
        if self.want('crt'):
            ckpt = self.train('crt', 'crt', f'{w}/crt', seed, self.e2, load=s1,
                              extra=[f'param_scheduler.T_max={self.e2}'])
            res['crt'] = self.test('crt', 'crt', ckpt, f'{w}/crt_eval')
        return res

    def switch_opts(self) -> List[str]:
        return self.stage1_opts() + [f'custom_hooks.0.switch_epoch={self.e1}']

    def noisy(self, seed: int, w: str) -> Dict[str, Dict[str, float]]:
        from label_noise import flip_labels, precision_recall
        noisy_ann, flipped = flip_labels(self.data, osp.join(self.work, 'noisy_train.txt'),
                                         self.args.noise)
        res = {}
        s1 = self.train('noisy_stage1', 'stage1', f'{w}/noisy_stage1', seed, self.e1,
                        ann_file=noisy_ann, extra=self.stage1_opts())
        two = self.train('noisy_two_stage', 'two_stage', f'{w}/noisy_two_stage', seed,
                         self.e1 + self.e2, ann_file=noisy_ann, resume=s1,
                         extra=self.switch_opts())
        res['noisy_two_stage'] = self.test('noisy_two_stage', 'two_stage', two,
                                           f'{w}/noisy_two_stage_eval')
        # the cleaner scores with the noisy run's checkpoints from before the first LR decay
        # (default) or with its last one; other choices get their own folders
        a = self.args
        epochs = (sorted({max(1, self.milestones[0] // 2), self.milestones[0]})
                  if a.clean_from == 'early' else [self.e1])
        tag = '' if (a.clean_from, a.clean_threshold) == ('early', 0.1) else \
            f'_{a.clean_from}{a.clean_threshold:g}'
        cleaned = f'{w}/cleaned{tag}/train_clean.txt'
        self.run('cleaned_two_stage', [
            osp.join(TOOLS, 'clean_labels.py'), self.cfg['stage1'],
            *[f'{w}/noisy_stage1/epoch_{e}.pth' for e in epochs], '--out', cleaned,
            '--threshold', str(a.clean_threshold), '--device', 'cpu', '--cfg-options',
            *self.data_opts(noisy_ann)], f'{w}/clean_labels{tag}.log', cleaned)
        two = self.train('cleaned_two_stage', 'two_stage', f'{w}/cleaned_two_stage{tag}', seed,
                         self.e1 + self.e2, ann_file=cleaned, resume=s1,
                         extra=self.switch_opts())
        res['cleaned_two_stage'] = self.test('cleaned_two_stage', 'two_stage', two,
                                             f'{w}/cleaned_two_stage{tag}_eval')
        # the fair comparison: both stages retrained on the cleaned labels
        s1c = self.train('cleaned_retrain', 'stage1', f'{w}/cleaned_stage1{tag}', seed, self.e1,
                         ann_file=cleaned, extra=self.stage1_opts())
        two = self.train('cleaned_retrain', 'two_stage', f'{w}/cleaned_retrain{tag}', seed,
                         self.e1 + self.e2, ann_file=cleaned, resume=s1c,
                         extra=self.switch_opts())
        res['cleaned_retrain'] = self.test('cleaned_retrain', 'two_stage', two,
                                           f'{w}/cleaned_retrain{tag}_eval')
        res['cleaner'] = precision_recall(cleaned.replace('.txt', '_removed.csv'), flipped)
        return res


def mean_std(values: List[float]) -> str:
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    if not len(arr):
        return 'n/a'
    return f'{arr.mean():.2f} ± {arr.std(ddof=1) if len(arr) > 1 else 0.0:.2f}'


def table(bench: Bench, results: List[Dict]) -> str:
    lines = [f'| {bench.args.dataset}, seeds {" ".join(map(str, bench.args.seeds))} | mean class '
             'acc % | few-shot acc % | CPU s per seed |', '|---|---|---|---|']
    shared = bench.mean_cpu('stage1')
    for key, label in ROWS:
        if any(key not in r for r in results):
            continue
        cpu = bench.mean_cpu(key)
        note = f' (+{shared:.0f} stage 1)' if key in ('two_stage', 'crt', 'lws', 'tau_norm',
                                                      'ncm') else ''
        if key == 'wb':
            note = f' (+{shared:.0f} stage 1)' if bench.wb_shares_stage1 else \
                f' (+{bench.mean_cpu("wb_stage1"):.0f} its stage 1)'
        if key in ('noisy_two_stage', 'cleaned_two_stage', 'cleaned_retrain'):
            note = f' (+{bench.mean_cpu("noisy_stage1"):.0f} noisy stage 1)'
        lines.append(f'| {label} | {mean_std([r[key].get("mean_class_acc") for r in results])} '
                     f'| {mean_std([r[key].get("few_shot_acc") for r in results])} '
                     f'| {cpu:.0f}{note} |')
    if 'cleaner' in results[0]:
        p = mean_std([100 * r['cleaner']['precision'] for r in results])
        r_ = mean_std([100 * r['cleaner']['recall'] for r in results])
        lines.append(f'\ncleaner (tools/clean_labels.py, {bench.args.clean_from} checkpoints, '
                     f'threshold {bench.args.clean_threshold:g}): precision {p} %, recall '
                     f'{r_} % of the {100 * bench.args.noise:.0f}% flipped labels')
    return '\n'.join(lines)


def main() -> None:
    args = parse_args()
    sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
    bench = Bench(args)
    bench.build_data()
    results, start = [], time.time()
    for seed in args.seeds:
        t = time.time()
        results.append(bench.seed(seed))
        print(f'seed {seed} done in {time.time() - t:.0f} s wall', flush=True)
        seeds = '_'.join(map(str, args.seeds)) + f'_clean_{args.clean_from}{args.clean_threshold:g}'
        with open(osp.join(bench.work, f'results_seeds_{seeds}.json'), 'w') as f:
            json.dump(dict(seeds=args.seeds, results=results, cpu_s=bench.cpu), f, indent=1)
    print(f'\n{args.dataset}: stage 1 {bench.e1} epochs (milestones {bench.milestones}), '
          f'stage 2 {bench.e2} epochs; {time.time() - start:.0f} s wall in all\n')
    print(table(bench, results))


if __name__ == '__main__':
    main()
