// A real one-node Slurm for the slurm tier: Debian's slurmctld, slurmd and munge, installed with apt
// when missing, configured in a scratch folder, started as processes this module owns and stopped by
// their pid files. Where it cannot be set up (not root, no apt) the tier is skipped with the reason;
// where root and apt exist, any failure to set it up is an error, never a skip.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

const PACKAGES = ['slurmctld', 'slurmd', 'slurm-client', 'munge'];
const SCRATCH_PREFIX = 'ar-slurm-';

export interface Cluster {
  /** The scratch folder: config, state, spool, logs, pid files. */
  dir: string;
  /** What every Slurm client and job needs. */
  env: Record<string, string>;
  cpus: number;
  /** Whether this setup had to install packages (a cold start). */
  installed: boolean;
  setupMs: number;
  /** Runs a Slurm client command against this cluster. */
  cmd(command: string, args: string[]): SpawnSyncReturns<string>;
  /** Stops slurmctld (jobs keep running on slurmd), waits `downMs`, starts it again from its saved state. */
  restartController(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

export type ClusterSetup = { cluster: Cluster; skipped?: undefined } | { cluster?: undefined; skipped: string };

/** Why the tier cannot run on this machine, or null when it can. */
export function unavailableReason(env = process.env): string | null {
  if (env.AUTORESEARCH_SKIP_SLURM) return 'AUTORESEARCH_SKIP_SLURM is set';
  if (process.platform !== 'linux') return `a real Slurm needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'starting munged, slurmctld and slurmd needs root';
  if (!onPath('apt-get') && missingPackages().length) return `Slurm is not installed and there is no apt-get to install ${PACKAGES.join(', ')}`;
  return null;
}

function onPath(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

function missingPackages(): string[] {
  return PACKAGES.filter((name) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 30_000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', env, timeout: timeoutMs });
}

function must(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** Installs the packages that are missing; true when something was installed. */
function install(log: (line: string) => void): boolean {
  const missing = missingPackages();
  if (missing.length === 0) return false;
  log(`installing ${missing.join(', ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const args = ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '-q', '--no-install-recommends', ...PACKAGES];
  let r = run('apt-get', args, env, 600_000);
  if (r.status !== 0) {
    // A fresh image may have no package lists yet.
    must(run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update', '-q'], env, 600_000), 'apt-get update');
    r = run('apt-get', args, env, 600_000);
  }
  must(r, `apt-get install ${PACKAGES.join(' ')}`);
  return true;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
async function stopPid(pid: number, graceMs = 10_000): Promise<void> {
  if (!alive(pid)) return;
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  for (let t = 0; t < graceMs && alive(pid); t += 50) await sleep(50);
  if (alive(pid)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    for (let t = 0; t < 2000 && alive(pid); t += 20) await sleep(20);
  }
}

const DAEMONS = ['slurmd', 'slurmctld', 'munged'] as const;

async function teardown(dir: string): Promise<void> {
  for (const d of DAEMONS) {
    const pid = readPid(join(dir, 'run', `${d}.pid`));
    if (pid) await stopPid(pid);
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Clusters left by a test process that died without tearing down: their daemons go, by pid file. */
async function reapAbandoned(): Promise<void> {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(SCRATCH_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    const owner = readPid(join(dir, 'owner.pid'));
    if (owner !== null && alive(owner)) continue;
    await teardown(dir);
  }
}

function memoryMiB(): number {
  const m = /^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  const total = m ? Math.floor(Number(m[1]) / 1024) : 2048;
  return Math.max(512, total - 1024);
}

function slurmConf(dir: string, ports: { ctld: number; slurmd: number }, ncpu: number): string {
  const p = (s: string) => join(dir, s);
  return `# One-node Slurm for AutoResearch's slurm test tier (written by test/slurm/cluster.ts).
ClusterName=autoresearch-test
SlurmctldHost=localhost
SlurmctldPort=${ports.ctld}
SlurmdPort=${ports.slurmd}
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${p('munge-socket/munge.socket')}
MpiDefault=none
ProctrackType=proctrack/cgroup
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=${p('log/jobcomp.txt')}
MailProg=/bin/true
ReturnToService=2
SchedulerParameters=batch_sched_delay=0
KillWait=5
MinJobAge=300
PreemptType=preempt/partition_prio
PreemptMode=REQUEUE
StateSaveLocation=${p('state')}
SlurmdSpoolDir=${p('spool')}
SlurmctldPidFile=${p('run/slurmctld-self.pid')}
SlurmdPidFile=${p('run/slurmd-self.pid')}
SlurmctldLogFile=${p('log/slurmctld.log')}
SlurmdLogFile=${p('log/slurmd.log')}
SlurmctldDebug=info
SlurmdDebug=info
NodeName=localhost NodeAddr=127.0.0.1 CPUs=${ncpu} RealMemory=${memoryMiB()} State=UNKNOWN
# debug: where experiments run. urgent: a higher tier that preempts it (requeue). tiny: a 1-minute limit.
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP PriorityTier=1
PartitionName=urgent Nodes=localhost MaxTime=INFINITE State=UP PriorityTier=10 PreemptMode=OFF
PartitionName=tiny Nodes=localhost MaxTime=1 State=UP PriorityTier=1
`;
}

// proctrack/cgroup: scancel then ends every process of a job, setsid children included (SLURM-RIG.md).
const CGROUP_CONF = `CgroupPlugin=cgroup/v1
CgroupMountpoint=/sys/fs/cgroup
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainSwapSpace=no
ConstrainDevices=no
`;

function startDaemon(dir: string, name: (typeof DAEMONS)[number], cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const out = openSync(join(dir, 'log', `${name}.out`), 'a');
  // Own session: the daemons outlive nothing of the test's process group, and a test's Ctrl-C does not reach them.
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out], env });
  closeSync(out);
  child.unref();
  if (!child.pid) throw new Error(`could not start ${name}`);
  writeFileSync(join(dir, 'run', `${name}.pid`), `${child.pid}\n`);
  return child.pid;
}

async function waitFor(what: string, timeoutMs: number, check: () => boolean, detail: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await sleep(100);
  }
  throw new Error(`${what} within ${timeoutMs / 1000}s. ${detail()}`);
}

function tailOf(file: string, lines = 15): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '(no log)';
}

/**
 * Sets up a fresh one-node cluster (fresh state, so job ids start at 1), or says why it is skipped.
 * Throws when root and apt are there but the setup fails.
 */
export async function startCluster(log: (line: string) => void = (l) => process.stdout.write(`[slurm] ${l}\n`)): Promise<ClusterSetup> {
  const reason = unavailableReason();
  if (reason) return { skipped: reason };
  const t0 = Date.now();
  const installed = install(log);
  await reapAbandoned();

  const dir = mkdtempSync(join(tmpdir(), SCRATCH_PREFIX));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'owner.pid'), `${process.pid}\n`);
  for (const d of ['state', 'spool', 'run', 'log', 'munge', 'munge-socket']) mkdirSync(join(dir, d), { recursive: true });
  try {
    // munge: a key and a socket of our own, so nothing under /etc/munge or /run/munge is touched.
    const uid = Number(must(run('id', ['-u', 'munge']), 'id -u munge').trim());
    const gid = Number(must(run('id', ['-g', 'munge']), 'id -g munge').trim());
    const m = (s: string) => join(dir, 'munge', s);
    must(run('mungekey', ['--create', `--keyfile=${m('munge.key')}`]), 'mungekey --create');
    chownSync(m('munge.key'), uid, gid);
    chmodSync(m('munge.key'), 0o400);
    chownSync(join(dir, 'munge'), uid, gid);
    chmodSync(join(dir, 'munge'), 0o700);
    // munged wants the key private and the socket's folder open to everyone (execute).
    chownSync(join(dir, 'munge-socket'), uid, gid);
    chmodSync(join(dir, 'munge-socket'), 0o755);
    const socket = join(dir, 'munge-socket', 'munge.socket');
    startDaemon(dir, 'munged', 'setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '/usr/sbin/munged', '--foreground',
      `--socket=${socket}`, `--key-file=${m('munge.key')}`, `--pid-file=${m('munged.pid')}`, `--log-file=${m('munged.log')}`, `--seed-file=${m('munged.seed')}`], process.env);
    await waitFor('munged did not open its socket', 15_000, () => existsSync(socket), () => tailOf(join(dir, 'log', 'munged.out')));

    const ncpu = Math.max(1, cpus().length);
    const ports = { ctld: await freePort(), slurmd: await freePort() };
    const conf = join(dir, 'slurm.conf');
    writeFileSync(conf, slurmConf(dir, ports, ncpu));
    writeFileSync(join(dir, 'cgroup.conf'), CGROUP_CONF);
    writeFileSync(join(dir, 'log', 'jobcomp.txt'), '');
    const env = { SLURM_CONF: conf };
    const denv = { ...process.env, ...env };
    startDaemon(dir, 'slurmctld', '/usr/sbin/slurmctld', ['-D', '-i'], denv);
    startDaemon(dir, 'slurmd', '/usr/sbin/slurmd', ['-D', '-N', 'localhost'], denv);
    // Right after a start the node is `unk` and jobs would wait: ready means idle.
    let state = '';
    await waitFor('the node did not become idle', 30_000, () => {
      state = run('sinfo', ['-h', '-n', 'localhost', '-o', '%T'], denv, 5000).stdout?.trim() ?? '';
      return state.split('\n').every((s) => s === 'idle') && state !== '';
    }, () => `sinfo says "${state}".\nslurmctld:\n${tailOf(join(dir, 'log', 'slurmctld.log'))}\nslurmd:\n${tailOf(join(dir, 'log', 'slurmd.log'))}`);

    const setupMs = Date.now() - t0;
    log(`cluster ready in ${(setupMs / 1000).toFixed(1)}s${installed ? ' (packages installed)' : ''}: ${conf}`);
    const cluster: Cluster = {
      dir, env, cpus: ncpu, installed, setupMs,
      cmd: (command, args) => run(command, args, denv),
      restartController: async (downMs) => {
        const pid = readPid(join(dir, 'run', 'slurmctld.pid'));
        if (pid) await stopPid(pid);
        await sleep(downMs);
        startDaemon(dir, 'slurmctld', '/usr/sbin/slurmctld', ['-D', '-i'], denv);
        await waitFor('slurmctld did not answer after its restart', 30_000, () => run('scontrol', ['ping'], denv, 5000).stdout?.includes('is UP') ?? false,
          () => tailOf(join(dir, 'log', 'slurmctld.log')));
      },
      stop: async () => {
        const ids = run('squeue', ['-h', '-o', '%i'], denv, 5000).stdout?.trim();
        if (ids) run('scancel', ids.split(/\s+/), denv, 10_000);
        await teardown(dir);
      },
    };
    return { cluster };
  } catch (e) {
    const err = e as Error;
    err.message = `Setting up Slurm failed (root and apt are available, so this is a failure, not a skip): ${err.message}\nlogs: ${dir}/log`;
    // Keep the logs of a failed setup for a person to read; stop the daemons.
    for (const d of DAEMONS) {
      const pid = readPid(join(dir, 'run', `${d}.pid`));
      if (pid) await stopPid(pid, 2000);
    }
    writeFileSync(join(dir, 'owner.pid'), '0\n');
    throw err;
  }
}
