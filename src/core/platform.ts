// What the experiments run on, recorded with the session and shown to proposers and in the summary.
import { cpus, totalmem, platform, arch } from 'node:os';
import { execa } from 'execa';
import type { PlatformInfo } from './types.js';

async function tryRun(cmd: string, args: string[], cwd: string): Promise<string | null> {
  try {
    const r = await execa(cmd, args, { cwd, timeout: 10_000, reject: false, stdin: 'ignore' });
    return r.exitCode === 0 ? String(r.stdout).trim() : null;
  } catch {
    return null;
  }
}

/**
 * The interpreter the run command starts (`/usr/bin/python3 train.py`, `.venv/bin/python train.py`, `env X=1 python3.11 …`),
 * so that the versions recorded are the run's, not those of whichever python3 is first on PATH; `python3` otherwise.
 */
export function pythonOf(run: string): string {
  // Each command of a chain: `cd projects/chargpt && PYTHONPATH=../.. python3 chargpt.py` runs python after a cd.
  for (const part of run.split(/&&|\|\||;/)) {
    const words = part.trim().split(/\s+/);
    let i = words[0] === 'env' ? 1 : 0;
    while (i < words.length && /^[A-Za-z_]\w*=/.test(words[i]!)) i++;
    const first = words[i] ?? '';
    if (/^(?:\S*\/)?python[\d.]*$/.test(first)) return first;
  }
  return 'python3';
}

/** Detects GPUs (nvidia-smi), Apple MPS, Python and ML framework versions; never fails. */
export async function detectPlatform(cwd: string, python = 'python3'): Promise<PlatformInfo> {
  const info: PlatformInfo = {
    os: platform(), arch: arch(), accelerator: 'cpu', gpus: [], python: null, frameworks: {},
    cpus: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30),
  };
  const smi = await tryRun('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'], cwd);
  if (smi) {
    info.gpus = smi.split('\n').filter(Boolean).map((l) => {
      const [name, mem] = l.split(',').map((s) => s.trim());
      return { name: name ?? 'NVIDIA GPU', memoryMb: mem ? Number(mem) : null };
    });
    if (info.gpus.length) info.accelerator = 'cuda';
  } else if (info.os === 'darwin' && info.arch === 'arm64') {
    info.accelerator = 'mps';
  }
  const probe = [
    'import sys, importlib',
    'print("python", sys.version.split()[0])',
    'for m in ("torch", "jax", "tensorflow", "numpy"):',
    '    try: print(m, importlib.import_module(m).__version__)',
    '    except Exception: pass',
  ].join('\n');
  const out = await tryRun(python, ['-c', probe], cwd);
  for (const line of out?.split('\n') ?? []) {
    const [k, v] = line.split(' ');
    if (!k || !v) continue;
    if (k === 'python') info.python = v;
    else info.frameworks[k] = v;
  }
  return info;
}
