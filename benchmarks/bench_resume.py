"""Kill and signal a demo run at random moments, resume it each time, compare the weights.

    python benchmarks/bench_resume.py                  # ~4 minutes on 2 cores
    python benchmarks/bench_resume.py --interrupts 9 --seed 1

Runs ``configs/demo/digits_lt_two_stage.py`` on Digits-LT (``tools/make_digits_lt.py``),
shrunk with ``--cfg-options`` (4 epochs, the switch to class-balanced sampling at epoch 2,
checkpoints every epoch keeping 3, validation every 2 epochs, Mixup so that the training
process draws random numbers every step, ``randomness.deterministic=True``, 2 persistent
DataLoader workers). First uninterrupted, then as one chain of runs: each run is interrupted
at a random moment (seeded: a random iteration of what it has left to train, then a random
lag of up to 0.3 s) by SIGTERM (preemption: checkpoint of the current iteration, exit 75),
SIGKILL, or SIGKILL while the next checkpoint is being written, and the next run starts with
``--resume`` from whatever the previous one left, until one finishes. Prints each
interruption and max |dw| between the two final models, which must be 0.0.
"""
import argparse
import os
import os.path as osp
import random
import re
import signal
import subprocess
import sys
import threading
import time


ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from aliprod_plugins.engine import PREEMPTED_EXIT_CODE, safe_load  # noqa: E402

CONFIG = osp.join(ROOT, 'configs', 'demo', 'digits_lt_two_stage.py')
KINDS = ('SIGTERM', 'SIGKILL', 'SIGKILL in a save')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Interrupt and resume a demo run')
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs', 'bench_resume'),
                        help='runs and data go here (default: work_dirs/bench_resume)')
    parser.add_argument('--interrupts', type=int, default=6,
                        help='interruptions of the chain (default: 6)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the moments (default: 0)')
    parser.add_argument('--epochs', type=int, default=4, help='epochs (default: 4)')
    parser.add_argument('--workers', type=int, default=2,
                        help='persistent DataLoader workers, 0 for none (default: 2)')
    return parser.parse_args()


def train_cmd(args, work_dir: str, data: str, resume: bool) -> list:
    opts = [f'train_cfg.max_epochs={args.epochs}', 'train_cfg.val_interval=2',
            f'custom_hooks.0.switch_epoch={args.epochs // 2}',
            'default_hooks.checkpoint.interval=1', 'default_hooks.logger.interval=1',
            'randomness.seed=0', 'randomness.deterministic=True',
            'model.train_cfg.augments.type=Mixup', 'model.train_cfg.augments.alpha=0.4',
            f'train_dataloader.num_workers={args.workers}',
            f'train_dataloader.persistent_workers={args.workers > 0}',
            'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False']
    opts += [f'{split}_dataloader.dataset.data_root={data}' for split in ('train', 'val')]
    return [sys.executable, osp.join(ROOT, 'tools', 'train.py'), CONFIG, '--work-dir', work_dir,
            *(['--resume'] if resume else []), '--cfg-options', *opts]


class Run:
    """A training process whose output is collected by a thread."""

    def __init__(self, cmd: list, log_path: str) -> None:
        env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')
        self.log = open(log_path, 'w')
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines: list = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            self.log.write(line)

    def count(self, pattern: str) -> int:
        return sum(1 for line in list(self.lines) if re.search(pattern, line))

    def finish(self) -> int:
        code = self.proc.wait()
        self.reader.join(timeout=10)  # orphaned workers of a killed run may hold the pipe
        self.log.close()
        return code


def progress(line: str, iters_per_epoch: int):
    """The global iteration a training log line reports, or None."""
    found = re.search(r'Epoch\(train\) \[\s*(\d+)\]\[\s*(\d+)/\d+\]', line)  # `[ 9/11]`
    return None if found is None else \
        (int(found.group(1)) - 1) * iters_per_epoch + int(found.group(2))


def interrupt(run: Run, kind: str, rng: random.Random, left: int, total: int,
              iters_per_epoch: int, work_dir: str) -> str:
    """Interrupt ``run`` as ``kind`` says, at a random iteration of what it has left to train.

    Once the run says where it starts, the target is drawn uniformly among the next
    ``1 / left`` of the remaining iterations (so that ``left`` interruptions fit), the signal
    goes a random lag of up to 0.3 s after the target is logged. ``'SIGKILL in a save'`` waits
    for the first checkpoint save after the target and kills the process while the temporary
    file exists (or 0.5 s later at most).
    """
    seen, saves, target, lag = 0, None, None, rng.uniform(0.0, 0.3)
    while run.proc.poll() is None:
        lines = list(run.lines)
        if target is None:
            text = ''.join(lines)
            start = re.search(r'resumed epoch: \d+, iter: (\d+)', text)
            if start or 'Epoch(train)' in text:
                start = int(start.group(1)) if start else 0
                target = rng.randint(start + 1, start + max(1, (total - 1 - start) // left))
            else:
                time.sleep(0.01)
                continue
        for line in lines[seen:]:
            if saves is None and (progress(line, iters_per_epoch) or 0) >= target:
                saves = run.count('Saving checkpoint')
        seen = len(lines)
        if saves is not None and kind != 'SIGKILL in a save':
            time.sleep(lag)
            run.proc.send_signal(getattr(signal, kind))
            return f'{kind} {lag:.2f} s after iteration {target}'
        if saves is not None and run.count('Saving checkpoint') > saves:
            deadline = time.time() + 0.5
            while time.time() < deadline and not _tmp_files(work_dir):
                time.sleep(0.001)
            mid = bool(_tmp_files(work_dir))
            run.proc.send_signal(signal.SIGKILL)
            return 'SIGKILL ' + ('while a checkpoint was being written' if mid
                                 else 'right after a checkpoint save')
        time.sleep(0.002)
    return f'finished before the planned {kind}'


def _tmp_files(work_dir: str) -> list:
    return [n for n in os.listdir(work_dir) if n.endswith('.tmp')]


def final_weights(work_dir: str, epochs: int) -> dict:
    return safe_load(osp.join(work_dir, f'epoch_{epochs}.pth'), map_location='cpu')['state_dict']


def main() -> None:
    args = parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    data = osp.join(args.work_dir, 'digits_lt')
    if not osp.isdir(osp.join(data, 'train')):
        subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'make_digits_lt.py'), data],
                       check=True)
    ref_dir, chain_dir = osp.join(args.work_dir, 'uninterrupted'), osp.join(args.work_dir, 'chain')
    for folder in (ref_dir, chain_dir):
        subprocess.run(['rm', '-rf', folder], check=True)
        os.makedirs(folder)

    t0 = time.time()
    ref = Run(train_cmd(args, ref_dir, data, resume=False), osp.join(args.work_dir, 'ref.log'))
    if ref.finish() != 0:
        sys.exit(f'the uninterrupted run failed, see {args.work_dir}/ref.log')
    per_epoch = int(re.search(r'Epoch\(train\) \[\s*1\]\[\s*\d+/(\d+)\]',
                              ''.join(ref.lines)).group(1))
    total = per_epoch * args.epochs
    print(f'uninterrupted run: {time.time() - t0:.1f} s, {total} iterations')

    rng = random.Random(args.seed)
    print(f'{"run":>3}  {"resumed from":<28} {"interruption":<50} exit')
    for i in range(args.interrupts + 1):
        run = Run(train_cmd(args, chain_dir, data, resume=i > 0),
                  osp.join(args.work_dir, f'chain_{i}.log'))
        if i < args.interrupts:
            what = interrupt(run, KINDS[i % len(KINDS)], rng, args.interrupts - i, total,
                             per_epoch, chain_dir)
        else:
            what = 'none (runs to the end)'
        code = run.finish()
        resumed = [m.groups() for m in re.finditer(r'resumed epoch: (\d+), iter: (\d+)',
                                                   ''.join(run.lines))]
        where = (f'iteration {resumed[0][1]} ({resumed[0][0]} epochs done)' if resumed
                 else 'the start')
        exit_txt = {0: '0 (done)', PREEMPTED_EXIT_CODE: f'{code} (preempted)',
                    -signal.SIGKILL: f'{code} (killed)'}.get(code, str(code))
        print(f'{i:>3}  {where:<28} {what:<50} {exit_txt}')
        if code == 0:
            break
        if code not in (PREEMPTED_EXIT_CODE, -signal.SIGKILL):
            sys.exit(f'run {i} failed with exit code {code}, see chain_{i}.log')
    else:
        sys.exit('the chain did not finish')

    ref_w, got = final_weights(ref_dir, args.epochs), final_weights(chain_dir, args.epochs)
    assert ref_w.keys() == got.keys()
    dw = max((ref_w[k].double() - got[k].double()).abs().max().item() for k in ref_w)
    print(f'max |dw| (final weights, resumed chain vs uninterrupted, {len(ref_w)} tensors): '
          f'{dw}  [{time.time() - t0:.0f} s in all]')


if __name__ == '__main__':
    main()
