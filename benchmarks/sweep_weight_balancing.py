"""Choose weight balancing's stage-1 weight decay and MaxNorm settings on Glyphs-LT's val split.

    python benchmarks/sweep_weight_balancing.py --seed 0 --stage1-wd 5e-4 2e-3 \\
        --thresh 0.1 0.3 --stage2-wd 5e-4 5e-3

For each stage-1 weight decay, stage 1 with the full schedule of
``configs/demo/glyphs_lt_wb_stage1.py`` (the plain stage 1 of ``bench_methods.py`` is reused
for the stage-1 config's own decay), then for each (threshold, stage-2 weight decay) the stage 2
of ``configs/demo/glyphs_lt_wb_stage2.py`` from it; every model scored on the validation split
by ``tools/test.py`` (the plain stage 1 is scored by ``bench_methods.py``, whose row is shown
when present). Runs in the work dir of ``bench_methods.py --dataset glyphs-lt`` (finished
steps are skipped, so grids can be extended). Prints one row per finished combination.
"""
import argparse
import json
import os
import os.path as osp
import sys

from mmengine.config import Config

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from bench_methods import Bench  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Weight-balancing sweep on Glyphs-LT')
    parser.add_argument('--seed', type=int, default=0, help='(default: 0)')
    parser.add_argument('--stage1-wd', nargs='+', default=['5e-4', '2e-3'],
                        help='stage-1 weight decays, as written in the folder names '
                        '(default: 5e-4 2e-3)')
    parser.add_argument('--thresh', type=float, nargs='+', default=[0.1, 0.3],
                        help='relative MaxNorm thresholds (default: 0.1 0.3)')
    parser.add_argument('--stage2-wd', type=float, nargs='+', default=[5e-4, 5e-3],
                        help='stage-2 weight decays (default: 5e-4 5e-3)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    bench = Bench(argparse.Namespace(dataset='glyphs-lt', seeds=[args.seed], work_dir=None,
                                     stage1_epochs=None, stage2_epochs=None, noise=0,
                                     methods=None))
    bench.build_data()
    bench.current_seed = args.seed
    w = osp.join(bench.work, f'seed{args.seed}')
    os.makedirs(f'{w}/sweep_wb', exist_ok=True)
    own_wd = Config.fromfile(bench.cfg['stage1']).optim_wrapper.optimizer.weight_decay
    # the MaxNormHook's place in the stage-2 config's custom_hooks (found by type, not assumed)
    hooks = Config.fromfile(bench.cfg['wb']).custom_hooks
    max_norm = [i for i, h in enumerate(hooks) if h['type'] == 'MaxNormHook'][0]
    rows = []
    for name in args.stage1_wd:
        wd1 = float(name)
        if wd1 == own_wd:
            s1 = bench.train('stage1', 'stage1', f'{w}/stage1', args.seed, bench.e1,
                             extra=bench.stage1_opts())
        else:
            s1 = bench.train('wb_stage1', 'stage1', f'{w}/wb_stage1_wd{name}', args.seed,
                             bench.e1, extra=bench.stage1_opts() +
                             [f'optim_wrapper.optimizer.weight_decay={wd1}'])
        if wd1 == own_wd:  # scored by bench_methods.py (so that parallel sweeps never race)
            s1_eval = f'{w}/stage1_eval'
            if osp.isfile(s1_eval + '.json'):
                with open(s1_eval + '.json') as f:
                    raw = json.load(f)
                rows.append((wd1, '-', '-', {k.split('/')[-1]: v for k, v in raw.get(
                    'metrics', raw).items() if isinstance(v, (int, float))}))
        else:
            rows.append((wd1, '-', '-', bench.test('wb_stage1', 'stage1', s1,
                                                   f'{w}/wb_stage1_wd{name}_eval')))
        for thresh in args.thresh:
            for wd2 in args.stage2_wd:
                out = f'{w}/sweep_wb/s1wd{wd1:g}_t{thresh:g}_wd{wd2:g}'
                ckpt = bench.train('wb', 'wb', out, args.seed, bench.e2, load=s1, extra=[
                    f'param_scheduler.T_max={bench.e2}', f'custom_hooks.{max_norm}.thresh={thresh}',
                    f'optim_wrapper.optimizer.weight_decay={wd2}'])
                rows.append((wd1, thresh, wd2, bench.test('wb', 'wb', ckpt, out + '_eval')))
                print(f'stage-1 wd {wd1:g}, thresh {thresh:g}, stage-2 wd {wd2:g}: '
                      f'{rows[-1][3]["mean_class_acc"]:.2f}', flush=True)
    print(f'\n| Glyphs-LT seed {args.seed}, val | stage-1 WD | MaxNorm thresh (relative) | '
          'stage-2 WD | mean class acc % | few-shot acc % |\n|---|---|---|---|---|---|')
    for wd1, thresh, wd2, res in rows:
        label = 'stage 1' if thresh == '-' else 'weight balancing'
        print(f'| {label} | {wd1:g} | {thresh} | {wd2} | {res["mean_class_acc"]:.2f} | '
              f'{res.get("few_shot_acc", float("nan")):.2f} |')


if __name__ == '__main__':
    main()
