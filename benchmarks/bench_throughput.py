"""Where the training throughput goes: the input pipeline from JPEG files vs from an LMDB pack,
and the model's train step, and how many loader cores one device needs.

One run prints:

(a) the stage-1 train dataset + pipeline (``AliProductsDataset`` of
    ``configs/aliprod/resnest50_stage1.py``: LoadImageScaled(160), RandomResizedCrop 112,
    flip, pack) in images/s on one core (one process, one thread, as a DataLoader worker), from
    the JPEG files and from a pack of them (``tools/pack_lmdb.py``, shorter side 176, q90), and
    the packed configs' pipeline (the same with crop, flip and pack fused:
    ``RandomResizedCropFlipPack``), on real photos (crops of scikit-learn's two bundled sample
    photos resized to catalogue sizes, sides 600-1000 px, JPEG q90) and on the synthetic images
    of ``bench_pipeline.py``; MMPretrain's stock ``LoadImageFromFile`` from files for
    reference. The variants run interleaved in chunks of 20 images, best of ``--rounds`` per
    chunk, so load from other processes hits all alike;
(b) the same through a DataLoader with 2 workers;
(c) the train step of the recipe model (ResNeSt-50, 112 px, 50,030 classes, batch 64: forward,
    backward, SGD step) in images/s on the device at hand: CUDA with bf16 autocast and
    ``cudnn.benchmark`` when present, else the CPU with all its threads (few steps);
(d) from these, the loader cores that keep one device fed, from files and from a pack.

Targets on the real photos: pack (fused pipeline) >= 4x the file pipeline per core, pack
<= 0.2x the source bytes. Usage::

    python benchmarks/bench_throughput.py                    # ~3 min on 2 idle CPU cores
    # (6 min at a load average of 15; the two CPU train steps of (c) take half of it)
    python benchmarks/bench_throughput.py --skip-model       # (a), (b) and bytes only
    python benchmarks/bench_throughput.py --num-images 100 --rounds 2 --model-steps 1
"""
import argparse
import os
import os.path as osp
import sys
import tempfile
import time

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, osp.join(REPO, 'tools'))

import pack_lmdb  # noqa: E402  tools/pack_lmdb.py
from mmpretrain.registry import DATASETS  # noqa: E402
from throughput_data import real_photo_jpegs, synthetic_jpegs, write_root  # noqa: E402

import aliprod_plugins  # noqa: E402,F401  registration only

CONFIG = osp.join(REPO, 'configs', 'aliprod', 'resnest50_stage1.py')
PACKED_CONFIG = osp.join(REPO, 'configs', 'aliprod', 'resnest50_stage1_lmdb.py')
FUSED = 'pack, fused crop-flip-pack'
CHUNK = 20


def build_datasets(cfg: Config, root: str, pack: str) -> dict:
    base = dict(cfg.train_dataloader.dataset, data_root=root)
    stock = [dict(type='LoadImageFromFile')] + list(base['pipeline'][1:])
    # the packed configs' pipeline: decode, then crop + resize + flip + pack fused
    fused = Config.fromfile(PACKED_CONFIG).train_dataloader.dataset.pipeline
    return {
        'files, stock LoadImageFromFile': DATASETS.build(dict(base, pipeline=stock)),
        'files, LoadImageScaled(160)': DATASETS.build(base),
        'pack, LoadImageScaled(160)': DATASETS.build(dict(base, lmdb=pack)),
        FUSED: DATASETS.build(dict(base, lmdb=pack, pipeline=fused)),
    }


def pack_fidelity(root: str, count: int) -> float:
    """Mean absolute difference (grey levels) of packed images vs a fresh full decode of the
    source shrunk with INTER_AREA to the same size (the cost of the JPEG re-encode)."""
    from aliprod_plugins.fileio import PackLmdbBackend
    from aliprod_plugins.transforms import decode_image
    backend = PackLmdbBackend(osp.join(root, 'pack'), root=osp.join(root, 'train'))
    mads = []
    for i in range(count):
        path = osp.join(root, 'train', f'{i % 100:05d}', f'{i}.jpg')
        packed = decode_image(backend.get(path))[0]
        with open(path, 'rb') as f:
            full = decode_image(f.read())[0]
        fresh = cv2.resize(full, packed.shape[1::-1], interpolation=cv2.INTER_AREA)
        mads.append(np.abs(packed.astype(np.int16) - fresh).mean())
    return float(np.mean(mads))


def per_core_rates(datasets: dict, rounds: int) -> tuple:
    """Images per CPU-second of this (single-threaded) process, and per wall-clock second.

    CPU time is what one core would deliver: on a shared machine the wall clock also counts
    the time this process waited for a core.
    """
    n = len(next(iter(datasets.values())))
    chunks = [range(a, min(a + CHUNK, n)) for a in range(0, n, CHUNK)]
    for ds in datasets.values():  # warm up: imports, allocators, page cache, LMDB pages
        for i in range(n):
            ds[i]
    cpu = {name: [float('inf')] * len(chunks) for name in datasets}
    wall = {name: [float('inf')] * len(chunks) for name in datasets}
    for _ in range(rounds):
        for c, chunk in enumerate(chunks):
            for name, ds in datasets.items():
                start, start_cpu = time.perf_counter(), time.process_time()
                for i in chunk:
                    ds[i]
                cpu[name][c] = min(cpu[name][c], time.process_time() - start_cpu)
                wall[name][c] = min(wall[name][c], time.perf_counter() - start)
    return ({name: n / max(sum(s), 1e-9) for name, s in cpu.items()},
            {name: n / sum(s) for name, s in wall.items()})


def loader_rate(dataset, workers: int, passes: int) -> float:
    from mmengine.dataset import default_collate
    loader = torch.utils.data.DataLoader(dataset, batch_size=64, shuffle=True,
                                         num_workers=workers, persistent_workers=True,
                                         collate_fn=default_collate)
    for _ in loader:  # start the workers, warm their caches
        pass
    start = time.perf_counter()
    for _ in range(passes):
        for _ in loader:
            pass
    return passes * len(dataset) / (time.perf_counter() - start)


def train_step_rate(cfg: Config, steps: int) -> tuple:
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample
    cuda = torch.cuda.is_available()
    device = torch.device('cuda' if cuda else 'cpu')
    torch.set_num_threads(os.cpu_count() or 1)
    torch.backends.cudnn.benchmark = True  # fixed 112-px input, as env_cfg in our configs
    model = MODELS.build(cfg.model).to(device).train()  # NCHW: channels-last is slower here
    optim = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, weight_decay=1e-4)
    inputs = torch.randn(64, 3, 112, 112, device=device)
    labels = torch.randint(0, cfg.model.head.num_classes, (64, ))
    samples = [DataSample().set_gt_label(int(label)).to(device) for label in labels]

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
            loss = sum(model(inputs, samples, mode='loss').values())
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()

    warmup, timed = (10, max(steps, 30)) if cuda else (1, steps)
    for _ in range(warmup):
        step()
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(timed):
        step()
    if cuda:
        torch.cuda.synchronize()
    name = (f'CUDA {torch.cuda.get_device_name()} (bf16 autocast, cudnn.benchmark)' if cuda
            else f'CPU, {torch.get_num_threads()} threads, fp32')
    return timed * 64 / (time.perf_counter() - start), name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-images', type=int, default=200, help='per image set (default: 200)')
    parser.add_argument('--rounds', type=int, default=3, help='(default: 3)')
    parser.add_argument('--passes', type=int, default=2, help='DataLoader passes (default: 2)')
    parser.add_argument('--model-steps', type=int, default=1,
                        help='timed train steps on CPU, after one warm-up step (CUDA: at least '
                        '30, after 10) (default: 1)')
    parser.add_argument('--skip-model', action='store_true', help='skip (c) and (d)')
    parser.add_argument('--seed', type=int, default=0, help='(default: 0)')
    args = parser.parse_args()

    torch.set_num_threads(1)  # (a): as in a DataLoader worker
    cv2.setNumThreads(0)
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(CONFIG)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        sets = {'real photos': real_photo_jpegs, 'synthetic': synthetic_jpegs}
        for label, make in sets.items():
            root = osp.join(tmp, label.replace(' ', '_'))
            source = write_root(root, make(args.num_images, args.seed))
            start = time.perf_counter()
            pack_lmdb.main([CONFIG, '--split', 'train', '--out', osp.join(root, 'pack'),
                            '--workers', str(os.cpu_count() or 1), '--cfg-options',
                            f'train_dataloader.dataset.data_root={root}'])
            pack_s = time.perf_counter() - start
            mad = pack_fidelity(root, min(args.num_images, 30))
            datasets = build_datasets(cfg, root, 'pack')
            rates, wall = per_core_rates(datasets, args.rounds)
            dl = {name: loader_rate(datasets[name], 2, args.passes) for name in list(rates)[1:]}
            results[label] = dict(source=source, pack=osp.getsize(osp.join(root, 'pack',
                                                                           'data.mdb')),
                                  rates=rates, wall=wall, dl=dl, pack_s=pack_s, mad=mad)
    mib, n = 1 << 20, args.num_images
    print(f'\nbench_throughput: {n} images per set, {os.cpu_count()} cores, load average '
          f'{os.getloadavg()[0]:.1f} (other processes share these cores)')
    print('(a) stage-1 train dataset + pipeline, one process, one thread: images per CPU-second '
          '(per wall-clock second); (b) DataLoader, 2 workers, img/s (wall clock)')
    for label, r in results.items():
        files, pack = r['rates']['files, LoadImageScaled(160)'], r['rates'][
            'pack, LoadImageScaled(160)']
        stock = r['rates']['files, stock LoadImageFromFile']
        print(f'  {label}: source {r["source"] / mib:.1f} MiB ({r["source"] / n / 1024:.0f} KiB'
              f'/image), pack {r["pack"] / mib:.1f} MiB = {r["pack"] / r["source"]:.3f}x, '
              f'packed in {r["pack_s"]:.1f} s ({n / r["pack_s"]:.0f} img/s); packed vs fresh '
              f'resize: mean abs. difference {r["mad"]:.2f} grey levels')
        for name, rate in r['rates'].items():
            dl = f'   (b) {r["dl"][name]:7.1f} img/s' if name in r['dl'] else ''
            print(f'    (a) {name:32s} {rate:7.1f} img/s ({r["wall"][name]:6.1f})  '
                  f'{rate / stock:5.2f}x stock{dl}')
        print(f'    pack / files per core: {pack / files:.2f}x; with the fused transform '
              f'(the packed configs\' pipeline): {r["rates"][FUSED] / files:.2f}x')
    if not args.skip_model:
        device_rate, device = train_step_rate(cfg, args.model_steps)
        print(f'(c) ResNeSt-50 train step, 112 px, 50,030 classes, batch 64: {device_rate:.1f} '
              f'img/s on {device}')
        print('(d) loader cores per device to keep up (real photos / synthetic):')
        for name in ('files, LoadImageScaled(160)', 'pack, LoadImageScaled(160)', FUSED):
            need = [device_rate / r['rates'][name] for r in results.values()]
            per_k = [1000 / r['rates'][name] for r in results.values()]
            print(f'    {name:32s} {need[0]:.3g} / {need[1]:.3g} cores for this device; per '
                  f'1,000 img/s of demand: {per_k[0]:.2f} / {per_k[1]:.2f} cores')
    real = results['real photos']
    speedup = real['rates'][FUSED] / real['rates']['files, LoadImageScaled(160)']
    ratio = real['pack'] / real['source']
    print(f'targets on real photos: pack (packed configs\' pipeline, fused) / files per core '
          f'{speedup:.2f}x (>= 4x: {"met" if speedup >= 4 else "MISSED"}), pack bytes '
          f'{ratio:.3f}x the source (<= 0.2x: {"met" if ratio <= 0.2 else "MISSED"})')


if __name__ == '__main__':
    main()
