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

Finished steps are skipped on a rerun (their CPU time is kept next to their log, in
``<log>.cpu``), so seeds can
run side by side (``--seeds 0 &``, ``--seeds 1 &``, ...) and one ``--seeds 0 1 2`` run then
prints the table. The README figures: ``--stage1-epochs 20 --stage2-epochs 5``.

Every model is scored on the clean validation split, with the shot groups of the clean
training split. The table gives the mean and standard deviation over seeds of mean class
accuracy and few-shot accuracy, and each method's CPU time (user + system of the subprocesses
and their workers, per seed; stage-2 variants exclude the stage 1 they share).

The parts: ``methods_bench.py`` (``Bench``: the tool steps through
``aliprod_plugins.runs.StepRunner``), ``methods_configs.py`` (the derived configs),
``methods_plan.py`` (the per-seed plan), ``methods_noisy.py`` (the noisy / cleaning rows),
``methods_table.py`` (the table). Layout: ``work_dirs/bench_methods_<dataset>/seed<N>/...``.
"""
import argparse
import json
import os.path as osp
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from methods_bench import TOOLS, Bench  # noqa: E402
from methods_plan import run_seed  # noqa: E402
from methods_table import ROWS, mean_std, table  # noqa: E402

__all__ = ['ROOT', 'ROWS', 'TOOLS', 'Bench', 'mean_std', 'run_seed', 'table']


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


def main() -> None:
    args = parse_args()
    bench = Bench(args)
    bench.build_data()
    results, start = [], time.time()
    for seed in args.seeds:
        t = time.time()
        results.append(run_seed(bench, seed))
        print(f'seed {seed} done in {time.time() - t:.0f} s wall', flush=True)
        seeds = '_'.join(map(str, args.seeds)) + f'_clean_{args.clean_from}{args.clean_threshold:g}'
        with open(osp.join(bench.work, f'results_seeds_{seeds}.json'), 'w') as f:
            json.dump(dict(seeds=args.seeds, results=results, cpu_s=bench.cpu), f, indent=1)
    print(f'\n{args.dataset}: stage 1 {bench.e1} epochs (milestones {bench.milestones}), '
          f'stage 2 {bench.e2} epochs; {time.time() - start:.0f} s wall in all\n')
    print(table(bench, results))


if __name__ == '__main__':
    main()
