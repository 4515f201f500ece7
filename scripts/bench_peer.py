#!/usr/bin/python3
"""The race `make bench-peer` runs: the same MLP, data, workers, tau, batch
and learning rate trained by PyTorch's gloo Local SGD and
DistributedDataParallel (fully synchronous SGD) on this machine's cores, and
by Anchorage (Local SGD and Overlap-Local-SGD). Prints, for each, the
seconds from launch to the target test accuracy (whole test set, evaluated
about every --eval-interval seconds) and the training samples per second,
and every time as a ratio of PyTorch Local SGD's.

    scripts/bench_peer.py --anchorage build/anchorage [--workers 4]
"""
import argparse
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"

# One thread per worker process, as Anchorage's workers compute: without
# this OpenBLAS starts a thread per core in every process and four
# processes on two cores run tens of times slower.
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")


def read_idx(path):
    with gzip.open(path, "rb") as f:
        magic, = struct.unpack(">I", f.read(4))
        dims = magic & 0xFF
        shape = struct.unpack(">" + "I" * dims, f.read(4 * dims))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(shape)


def load(data_dir):
    def images(name):
        return read_idx(os.path.join(data_dir, name)).reshape(-1, 784).astype(
            np.float32) / 255.0

    def labels(name):
        return read_idx(os.path.join(data_dir, name)).astype(np.int64)

    return (images("train-images-idx3-ubyte.gz"),
            labels("train-labels-idx1-ubyte.gz"),
            images("t10k-images-idx3-ubyte.gz"),
            labels("t10k-labels-idx1-ubyte.gz"))


def torch_worker(rank, args, mode, launch, result_path):
    import torch
    import torch.distributed as dist
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    dist.init_process_group("gloo", init_method="tcp://127.0.0.1:%d" % args.port,
                            rank=rank, world_size=args.workers)
    x_train, y_train, x_test, y_test = load(args.data_dir)
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(x_train))
    shard = order[rank::args.workers]
    x = torch.from_numpy(x_train[shard])
    y = torch.from_numpy(y_train[shard])
    tx = torch.from_numpy(x_test)
    ty = torch.from_numpy(y_test)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                          nn.ReLU(), nn.Linear(128, 10))
    for p in model.parameters():  # every rank starts from rank 0's model
        dist.broadcast(p.data, 0)
    if mode == "ddp":
        model = nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr,
                                momentum=args.momentum)
    loss_fn = nn.CrossEntropyLoss()
    steps_per_epoch = len(x) // args.batch_size
    total_steps = int(args.epochs * steps_per_epoch)
    evaluations = []
    last_eval = time.time()
    start = time.time()
    reached = None
    step = 0
    generator = torch.Generator().manual_seed(args.seed + rank)
    perm = torch.randperm(len(x), generator=generator)
    cursor = 0
    while step < total_steps:
        if cursor + args.batch_size > len(x):
            perm = torch.randperm(len(x), generator=generator)
            cursor = 0
        batch = perm[cursor:cursor + args.batch_size]
        cursor += args.batch_size
        optimizer.zero_grad()
        loss_fn(model(x[batch]), y[batch]).backward()
        optimizer.step()
        step += 1
        if mode == "local-sgd" and step % args.local_steps == 0:
            with torch.no_grad():
                for p in model.parameters():
                    dist.all_reduce(p.data)
                    p.data /= args.workers
        synced = mode == "ddp" or step % args.local_steps == 0
        stop = torch.zeros(1)
        if synced and rank == 0 and time.time() - last_eval >= args.eval_interval:
            with torch.no_grad():
                accuracy = (model(tx).argmax(1) == ty).float().mean().item()
            last_eval = time.time()
            evaluations.append((last_eval - launch, accuracy))
            if accuracy >= args.target and reached is None:
                reached = last_eval - launch
                stop[0] = 1
        if synced:
            dist.broadcast(stop, 0)  # every rank stops at the target
            if stop[0] > 0:
                break
    seconds = time.time() - start
    samples = torch.tensor([float(step * args.batch_size)])
    dist.all_reduce(samples)
    if rank == 0:
        with open(result_path, "w") as f:
            json.dump({"time_to_target": reached,
                       "samples_per_second": samples.item() / seconds,
                       "evaluations": evaluations}, f)
    dist.destroy_process_group()


def run_torch(args, mode):
    import torch.multiprocessing as mp
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "result.json")
        launch = time.time()
        mp.spawn(torch_worker, args=(args, mode, launch, path),
                 nprocs=args.workers, join=True)
        with open(path) as f:
            return json.load(f)


def run_anchorage(args, algorithm):
    with tempfile.TemporaryDirectory() as tmp:
        summary_path = os.path.join(tmp, "summary.json")
        launch = time.time()
        subprocess.run(
            [args.anchorage, "demo", "--algorithm", algorithm,
             "--workers", str(args.workers), "--model", "mlp:256,128",
             "--local-steps", str(args.local_steps),
             "--batch-size", str(args.batch_size), "--lr", str(args.lr),
             "--momentum", str(args.momentum), "--epochs", str(args.epochs),
             "--eval-interval", str(args.eval_interval), "--eval-examples", "0",
             "--seed", str(args.seed), "--summary-json", summary_path],
            check=True, stdout=subprocess.DEVNULL)
        finished = time.time()
        with open(summary_path) as f:
            summary = json.load(f)
    # The server's evaluation times count from its own start, a moment
    # after the launch; shift them so they count from the launch as
    # PyTorch's do (the server starts first, so this is a bound on it).
    offset = (finished - launch) - summary.get("demo_wall_seconds",
                                               finished - launch)
    reached = None
    for evaluation in summary["evaluations"]:
        if evaluation["accuracy"] >= args.target:
            reached = evaluation["seconds"] + max(offset, 0.0)
            break
    # Samples over the seconds of training, as PyTorch's are counted (from
    # the first step, start-up and the final evaluation left out).
    seconds = summary.get("training_seconds", summary["wall_seconds"])
    return {"time_to_target": reached,
            "samples_per_second": summary["samples"] / seconds}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--anchorage", default="build/anchorage")
    parser.add_argument("--data-dir", default=DATA)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--local-steps", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--epochs", type=float, default=10)
    parser.add_argument("--target", type=float, default=0.85)
    parser.add_argument("--eval-interval", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=29511)
    args = parser.parse_args()

    runs = [
        ("PyTorch gloo Local SGD", lambda: run_torch(args, "local-sgd")),
        ("PyTorch DDP (synchronous SGD)", lambda: run_torch(args, "ddp")),
        ("Anchorage Local SGD", lambda: run_anchorage(args, "local-sgd")),
        ("Anchorage Overlap-Local-SGD",
         lambda: run_anchorage(args, "overlap-local-sgd")),
    ]
    results = []
    for name, run in runs:
        print("bench-peer: %s ..." % name, file=sys.stderr, flush=True)
        results.append((name, run()))
    baseline = results[0][1]
    print("%d workers, mlp:256,128 on Fashion-MNIST, tau=%d, batch %d, lr %g, "
          "momentum %g, target %.2f (whole test set), %d cores" %
          (args.workers, args.local_steps, args.batch_size, args.lr,
           args.momentum, args.target, os.cpu_count()))
    print("%-32s %14s %10s %12s %10s" % ("", "to target (s)", "ratio",
                                         "samples/s", "ratio"))
    for name, result in results:
        t = result["time_to_target"]
        base_t = baseline["time_to_target"]
        print("%-32s %14s %10s %12.0f %10.2f" % (
            name, "%.1f" % t if t is not None else "not reached",
            "%.2f" % (t / base_t) if t is not None and base_t else "n/a",
            result["samples_per_second"],
            result["samples_per_second"] / baseline["samples_per_second"]))


if __name__ == "__main__":
    main()
