#!/usr/bin/env python3
"""Issue 16's speed protocol in one command: `zoo bench` and the PyTorch
reference back to back, several rounds, on this machine, with the CPU, the
sgemm rate, the GEMM floor and zoo's time split of every round.

    Scripts/speed_vs_pytorch.py                      # the tutorial MLP, 3 rounds
    Scripts/speed_vs_pytorch.py --recipe conv-vae    # the convolutional VAE
    Scripts/speed_vs_pytorch.py --avx2               # both sides held to AVX2
    Scripts/speed_vs_pytorch.py --eval [--avx2]      # evaluation (item 3): eval --nll, embed

PyTorch comes from --torch-python or $ZOO_TORCH_PYTHON (a Python with torch,
e.g. `python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch
numpy h5py`). zoo is `.build/release/zoo` (build it with `swift build -c
release`). Only figures taken in one run of this script compare: the VMs this
project meets drift by 5-15 % within an hour.

--eval compares evaluation instead of training, on checkpoints it trains
first for one epoch into a temporary directory (the tutorial MLP and
conv-vae): `zoo eval --nll` (the MLP, K = 5000, 200 images; conv-vae, K =
1000, 100 images; zoo's own importance-sampling seconds) against
Scripts/pytorch_iwae.py and pytorch_conv_vae.py --nll (their own timers), and
`zoo embed --split all --csv` (the whole process, start-up included) against
Scripts/pytorch_embed.py (from reading the data to the written CSV).

--avx2 emulates a CPU without AVX-512 on one that has it: zoo runs OpenBLAS's
Haswell kernels (ZOO_BLAS_CORETYPE=Haswell) and libxsmm's AVX2 code
(LIBXSMM_TARGET=hsw) from a build whose own element-wise
kernels have no AVX-512 versions (`swift build -c release -Xcc -DZK_AVX2_ONLY
--build-path .build-avx2`, its binary the default --zoo then), and PyTorch gets
MKL_ENABLE_INSTRUCTIONS=AVX2, ONEDNN_MAX_CPU_ISA=AVX2, ATEN_CPU_CAPABILITY=avx2;
both get GLIBC_TUNABLES without AVX-512 (glibc's memset and memcpy). The same
instructions are not the same CPU (an AVX2 core may have other latencies,
caches and clocks), so a real AVX2 CPU still has the last word.
"""

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

REFERENCES = {
    # recipe: (PyTorch script, epochs per run)
    "vae": ("Scripts/pytorch_reference.py", 3),
    "conv-vae": ("Scripts/pytorch_conv_vae.py", 2),
}


# glibc's tunable that hides AVX-512 from its own function selection (memset, memcpy, ...).
GLIBC_WITHOUT_AVX512 = "glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def run(command, env):
    """Runs `command`, returns its standard output; stops the script with the
    command's own error text if it fails."""
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"speed_vs_pytorch: {' '.join(command)} failed ({done.returncode}):\n{done.stderr.strip()}")
    return done.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", choices=sorted(REFERENCES), default="vae")
    parser.add_argument("--rounds", type=int, default=3, help="zoo/PyTorch pairs, back to back (default 3)")
    parser.add_argument("--epochs", type=int, help="epochs per run (default 3 for vae, 2 for conv-vae)")
    parser.add_argument("--avx2", action="store_true", help="hold both sides to AVX2 (see above)")
    parser.add_argument("--eval", action="store_true", help="evaluation (eval --nll, embed) instead of training")
    parser.add_argument("--torch-python", default=os.environ.get("ZOO_TORCH_PYTHON"), help="a Python with torch")
    parser.add_argument("--zoo", help="the zoo binary (default .build/release/zoo, with --avx2 .build-avx2/release/zoo)")
    args = parser.parse_args()
    if not 1 <= args.rounds <= 20:
        parser.error(f"--rounds {args.rounds}: give 1 to 20")
    if args.epochs is not None and not 1 <= args.epochs <= 50:
        parser.error(f"--epochs {args.epochs}: give 1 to 50")
    if not args.torch_python:
        parser.error("no PyTorch: pass --torch-python PATH or set ZOO_TORCH_PYTHON (a Python that imports torch)")
    args.zoo = args.zoo or os.path.join(ROOT, ".build-avx2/release/zoo" if args.avx2 else ".build/release/zoo")
    build = "swift build -c release" + (" -Xcc -DZK_AVX2_ONLY --build-path .build-avx2" if args.avx2 else "")
    if not os.access(args.zoo, os.X_OK):
        parser.error(f"{args.zoo} is not there: run `{build}` first, or pass --zoo")
    if args.eval and (args.recipe != "vae" or args.epochs is not None):
        parser.error("--eval trains its own checkpoints (the MLP and conv-vae): leave out --recipe and --epochs")
    script, default_epochs = REFERENCES[args.recipe]
    epochs = args.epochs or default_epochs

    zoo_env = dict(os.environ)
    torch_env = dict(os.environ)
    if args.avx2:
        # glibc's string functions (memset, memcpy) on both sides: its AVX2 versions.
        for env in (zoo_env, torch_env):
            env["GLIBC_TUNABLES"] = GLIBC_WITHOUT_AVX512
        zoo_env["ZOO_BLAS_CORETYPE"] = "Haswell"
        zoo_env["LIBXSMM_TARGET"] = "hsw"
        torch_env.update(MKL_ENABLE_INSTRUCTIONS="AVX2", ONEDNN_MAX_CPU_ISA="AVX2", ATEN_CPU_CAPABILITY="avx2")
    if args.eval:
        return compare_evaluation(args, zoo_env, torch_env)
    zoo_command = [args.zoo, "bench", "--recipe", args.recipe, "--epochs", str(epochs), "--json"]
    torch_command = [args.torch_python, script, "--epochs", str(epochs)]

    print_header(args, "", " ".join(zoo_command), " ".join(torch_command))
    print("round  zoo s/epoch  PyTorch s/epoch  lead   sgemm GFLOP/s  floor s  zoo/floor  "
          "zoo's split (s): batches / passes / Adam")
    leads, zoos, torches = [], [], []
    for r in range(1, args.rounds + 1):
        bench = json.loads(run(zoo_command, zoo_env))
        torch_s = seconds_in(run(torch_command, torch_env), r"median ([0-9.]+) s per epoch", script)
        zoo_s = bench["median_seconds_per_epoch"]
        floor = bench["gemm_floor_seconds_per_epoch"]
        optimizer = bench.get("optimizer_seconds_per_epoch")
        split = (f"{bench['batch_preparation_seconds_per_epoch']:.3f} / {bench['forward_backward_seconds_per_epoch']:.3f} / "
                 f"{'-' if optimizer is None else f'{optimizer:.3f}'}")
        print(f"{r:5d}  {zoo_s:11.3f}  {torch_s:15.3f}  {torch_s / zoo_s:4.2f}x  {bench['sgemm_gflops']:13.0f}  "
              f"{floor:7.3f}  {zoo_s / floor:8.2f}x  {split}", flush=True)
        leads.append(torch_s / zoo_s)
        zoos.append(zoo_s)
        torches.append(torch_s)
        if r == 1:
            print(f"#      {bench['cpu']}, {bench['instruction_set']}, OpenBLAS {bench['blas_core']} kernels, "
                  f"zoo's own kernels {bench.get('zoo_kernels_instruction_set', 'AVX-512 where the CPU has it')}, "
                  f"{bench.get('jit_products', 'no libxsmm')}, {bench['threads']} threads, {bench['workers']} workers; checkpoint save "
                  f"{bench['checkpoint_save_seconds'] * 1e3:.1f} ms, load {bench['checkpoint_load_seconds'] * 1e3:.1f} ms",
                  flush=True)
    print(f"medians: zoo {statistics.median(zoos):.3f} s, PyTorch {statistics.median(torches):.3f} s; "
          f"lead {min(leads):.2f}-{max(leads):.2f}x over the rounds")


def print_header(args, task, zoo_line, torch_line):
    """The date, the CPU, the mode and both commands, as comment lines above a run's table."""
    print(f"# {datetime.date.today()}, {cpu_model()}, {os.cpu_count()} CPUs; {task}{'AVX2 emulated' if args.avx2 else 'native'}")
    print(f"# zoo:     {zoo_line}" + ("  (ZOO_BLAS_CORETYPE=Haswell, LIBXSMM_TARGET=hsw, GLIBC_TUNABLES)" if args.avx2 else ""))
    print(f"# PyTorch: {torch_line}" + ("  (MKL/oneDNN/ATen held to AVX2, GLIBC_TUNABLES)" if args.avx2 else ""))


def seconds_in(output, pattern, what):
    """The seconds `pattern` (one group) finds in `output`; stops the script if it finds none."""
    found = re.search(pattern, output)
    if not found:
        sys.exit(f"speed_vs_pytorch: no seconds in the output of {what}:\n{output}")
    return float(found.group(1))


def compare_evaluation(args, zoo_env, torch_env):
    """Issue 16 item 3: evaluation and embedding against PyTorch, back to back, per round."""
    with tempfile.TemporaryDirectory(prefix="zoo-eval-speed-") as tmp:
        mlp, conv, csv = (os.path.join(tmp, name) for name in ("mlp.h5", "conv.h5", "z.csv"))
        run([args.zoo, "train", "--epochs", "1", "--save", mlp], zoo_env)
        run([args.zoo, "train", "--recipe", "conv-vae", "--epochs", "1", "--save", conv], zoo_env)
        py = args.torch_python
        tasks = [
            # name, zoo command, how to read zoo's seconds, PyTorch command, how to read PyTorch's
            ("MLP eval --nll, K=5000, 200 images",
             [args.zoo, "eval", mlp, "--nll", "--iw-samples", "5000", "--limit", "200", "--json"], "json",
             [py, "Scripts/pytorch_iwae.py", mlp, "--images", "200", "--k", "5000"], r"nats, ([0-9.]+) s"),
            ("embed --split all --csv (70,000 images)",
             [args.zoo, "embed", mlp, "--split", "all", "--csv", csv], "wall",
             [py, "Scripts/pytorch_embed.py", mlp, "--csv", csv + ".torch"], r"images: ([0-9.]+) s from reading"),
            ("conv-vae eval --nll, K=1000, 100 images",
             [args.zoo, "eval", conv, "--nll", "--iw-samples", "1000", "--limit", "100", "--json"], "json",
             [py, "Scripts/pytorch_conv_vae.py", "--checkpoint", conv, "--nll", "1000", "--images", "100"],
             r"nats .*?, ([0-9.]+) s \("),
        ]
        print_header(args, "evaluation, ", args.zoo, py)
        print("round  task                                      zoo s  PyTorch s  lead")
        leads = {name: [] for name, *_ in tasks}
        for r in range(1, args.rounds + 1):
            for name, zoo_command, zoo_reading, torch_command, torch_pattern in tasks:
                start = time.perf_counter()
                out = run(zoo_command, zoo_env)
                if zoo_reading == "json":
                    zoo_s = json.loads(out)["nll"]["seconds"]
                else:
                    zoo_s = time.perf_counter() - start
                torch_s = seconds_in(run(torch_command, torch_env), torch_pattern, torch_command[1])
                leads[name].append(torch_s / zoo_s)
                print(f"{r:5d}  {name:40s}  {zoo_s:5.2f}  {torch_s:9.2f}  {torch_s / zoo_s:4.2f}x", flush=True)
        for name, values in leads.items():
            print(f"lead, {name}: {min(values):.2f}-{max(values):.2f}x over the rounds")


if __name__ == "__main__":
    main()
