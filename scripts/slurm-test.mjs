// `npm run test:slurm`: batch sharding under a real scheduler. Installs Debian's slurm-wlm and
// munge when missing, starts a one-node SLURM cluster on this machine (munged, slurmctld, slurmd,
// all on localhost, with a private config and state in a temporary folder), submits THE array job
// of docs/batch.md (examples/cluster/quals-array.sbatch) as 4 tasks over 1,600 toy records, kills
// one running task (scancel --signal=KILL), requeues it, merges the shards with `quals merge` and
// compares with a one-process run: identical apart from timings. Everything is torn down at the end.
//
// Needs root (apt, daemons). Elsewhere it says why and exits 0, unless QUALS_REQUIRE_SLURM=1
// (set by .ci/run), where not being able to run is a failure.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const SCRIPT = path.join(ROOT, 'examples/cluster/quals-array.sbatch');
const CLI = path.join(ROOT, 'dist/cli.js');
const MODEL = path.join(ROOT, 'models/tiny-qagen');
const FLAGS = '--device cpu --beams 4 --groups 2 --threads 1 --progress-every 2';
// Enough that a task runs for seconds (the toy scores ~150 lines/s per process), so the test can
// catch one mid-run to kill it.
const RECORDS = 1600;
const TASKS = 4;
const required = process.env.QUALS_REQUIRE_SLURM === '1';
const t0 = Date.now();
const say = (line) => process.stdout.write(`test:slurm [${((Date.now() - t0) / 1000).toFixed(0)}s] ${line}\n`);

function cannot(why) {
  process.stdout.write(`test:slurm: SKIPPED: ${why}\n`);
  process.exit(required ? 1 : 0);
}
if (process.platform !== 'linux') cannot('needs Linux (Debian/Ubuntu: slurm-wlm, munge).');
if (process.getuid?.() !== 0) cannot('needs root: it installs slurm-wlm and munge with apt-get and starts munged, slurmctld and slurmd. Run `sudo npm run test:slurm` (CI runs it as root).');
if (!fs.existsSync(CLI)) cannot('dist/cli.js is missing: run `npm run build` first.');

const which = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
function sbin(name) {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin']) if (fs.existsSync(path.join(dir, name))) return path.join(dir, name);
  return name;
}
if (!['sbatch', 'squeue', 'scancel', 'scontrol', 'sinfo'].every(which) || !fs.existsSync(sbin('slurmctld')) || !fs.existsSync(sbin('munged'))) {
  say('installing slurm-wlm and munge (apt-get)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'slurm-wlm', 'munge'], { stdio: 'inherit', env }).status;
  if (install() !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    if (install() !== 0) cannot('apt-get install slurm-wlm munge failed.');
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quals-slurm-'));
fs.chmodSync(tmp, 0o755);
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', env: slurmEnv, ...opts });
const slurmEnv = { ...process.env, SLURM_CONF: path.join(tmp, 'slurm.conf') };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, fn, ms = 120_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}
const readPid = (file) => {
  try {
    return Number(fs.readFileSync(file, 'utf8').trim()) || null;
  } catch {
    return null;
  }
};

function teardown() {
  try {
    spawnSync('scancel', ['--quiet', '--name', 'quals'], { env: slurmEnv });
  } catch {}
  for (const pidFile of ['slurmd.pid', 'slurmctld.pid', 'munged.pid'].map((f) => path.join(tmp, f))) {
    const pid = readPid(pidFile);
    if (!pid) continue;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {}
  }
  const deadline = Date.now() + 10_000;
  for (const pidFile of ['slurmd.pid', 'slurmctld.pid', 'munged.pid'].map((f) => path.join(tmp, f))) {
    const pid = readPid(pidFile);
    while (pid && Date.now() < deadline) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      spawnSync('sleep', ['0.2']);
    }
    try {
      if (pid) process.kill(pid, 'SIGKILL');
    } catch {}
  }
  if (process.env.QUALS_KEEP_SLURM_TMP !== '1') fs.rmSync(tmp, { recursive: true, force: true });
}

async function main() {
  // munge: its own key, socket and state, as the munge user.
  const munge = path.join(tmp, 'munge');
  const keyDir = path.join(munge, 'etc'); // private: the key and the seed
  const runDir = path.join(munge, 'run'); // everyone may reach the socket
  fs.mkdirSync(munge, { mode: 0o755 });
  fs.mkdirSync(keyDir, { mode: 0o700 });
  fs.mkdirSync(runDir, { mode: 0o755 });
  fs.writeFileSync(path.join(keyDir, 'munge.key'), randomBytes(1024), { mode: 0o400 });
  run('chown', ['-R', 'munge:munge', munge]);
  const socket = path.join(runDir, 'munge.socket');
  const mungePid = path.join(runDir, 'munged.pid');
  run('runuser', ['-u', 'munge', '--', sbin('munged'), `--socket=${socket}`, `--key-file=${path.join(keyDir, 'munge.key')}`, `--pid-file=${mungePid}`, `--log-file=${path.join(munge, 'munged.log')}`, `--seed-file=${path.join(keyDir, 'munged.seed')}`]);
  await until('munged', () => fs.existsSync(mungePid), 20_000);
  fs.copyFileSync(mungePid, path.join(tmp, 'munged.pid'));
  say('munged started');

  const state = path.join(tmp, 'state');
  const spool = path.join(tmp, 'spool');
  fs.mkdirSync(state);
  fs.mkdirSync(spool);
  const cpus = os.availableParallelism();
  fs.writeFileSync(
    path.join(tmp, 'slurm.conf'),
    [
      'ClusterName=quals-test',
      'SlurmctldHost=localhost',
      'SlurmctldPort=16817',
      'SlurmdPort=16818',
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      `AuthInfo=socket=${socket}`,
      'CredType=cred/munge',
      `StateSaveLocation=${state}`,
      `SlurmdSpoolDir=${spool}`,
      `SlurmctldPidFile=${path.join(tmp, 'slurmctld.pid')}`,
      `SlurmdPidFile=${path.join(tmp, 'slurmd.pid')}`,
      `SlurmctldLogFile=${path.join(tmp, 'slurmctld.log')}`,
      `SlurmdLogFile=${path.join(tmp, 'slurmd.log')}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_CPU',
      'ReturnToService=2',
      'MpiDefault=none',
      'JobRequeue=1',
      'SchedulerType=sched/backfill',
      'MinJobAge=300',
      `NodeName=localhost CPUs=${cpus} State=UNKNOWN`,
      'PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP',
      '',
    ].join('\n'),
  );
  run(sbin('slurmctld'), ['-f', path.join(tmp, 'slurm.conf')]);
  run(sbin('slurmd'), ['-f', path.join(tmp, 'slurm.conf')]);
  await until('the node to be idle', () => /idle|mix|alloc/.test(spawnSync('sinfo', ['-h', '-o', '%T'], { env: slurmEnv, encoding: 'utf8' }).stdout ?? ''), 60_000);
  say(`one-node cluster up (${cpus} CPUs): ${run('sinfo', ['-h']).trim()}`);

  // The data and the one-process reference.
  const work = path.join(tmp, 'work');
  fs.mkdirSync(path.join(work, 'logs'), { recursive: true });
  const people = ['Fury', 'Klitschko', 'Joshua', 'Wilder', 'Usyk', 'Parker'];
  const cities = ['Paris', 'London', 'Berlin', 'Madrid', 'Rome', 'Vienna'];
  const lines = [];
  for (let i = 1; i <= RECORDS; i++) {
    const [a, b, c] = [people[i % 6], people[(i + 2) % 6], cities[i % 6]];
    lines.push(JSON.stringify({ id: `d${i}`, document: `${a} beat ${b} in ${c} on day ${i}. ${i * 100} fans watched.`, summary: `${a} beat ${b} in ${i % 3 === 0 ? cities[(i + 1) % 6] : c} on day ${i}.` }));
  }
  const input = path.join(work, 'pairs.jsonl');
  fs.writeFileSync(input, lines.join('\n') + '\n');
  const single = path.join(work, 'single.jsonl');
  say(`one-process reference run over ${RECORDS} records`);
  run(process.execPath, [CLI, 'batch', '--in', input, '--out', single, '--model', MODEL, '--quiet', ...FLAGS.split(' ')], { stdio: ['ignore', 'ignore', 'inherit'] });

  // The array job of docs/batch.md, sized down on the command line (options there beat #SBATCH lines).
  const env = { ...slurmEnv, QUALS: `${process.execPath} ${CLI}`, QUALS_IN: input, QUALS_OUT: path.join(work, 'out'), QUALS_MODEL: MODEL, QUALS_WORKERS: '1', QUALS_FLAGS: FLAGS };
  const jobId = run('sbatch', ['--parsable', `--array=0-${TASKS - 1}`, '--cpus-per-task=1', '--time=30', `--chdir=${work}`, SCRIPT], { env }).trim().split(';')[0];
  say(`submitted array job ${jobId} (${TASKS} tasks): ${SCRIPT}`);
  const victim = `${jobId}_1`;
  const outOf = (k) => path.join(work, 'out', `scored-${k}.jsonl`);
  const linesIn = (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').length - 1 : 0);
  const taskState = (id) => (spawnSync('squeue', ['-h', '-j', id, '-o', '%T'], { env: slurmEnv, encoding: 'utf8' }).stdout ?? '').trim();
  await until(`task ${victim} to be running with 5 finished lines`, () => taskState(victim) === 'RUNNING' && linesIn(outOf(1)) >= 5, 300_000);
  const before = linesIn(outOf(1));
  run('scancel', ['--signal=KILL', victim]);
  await until(`task ${victim} to end`, () => taskState(victim) !== 'RUNNING', 60_000);
  say(`killed ${victim} (scancel --signal=KILL) after ${before} of ~${RECORDS / TASKS} lines`);
  // A killed task may linger as COMPLETING for a moment; requeue as soon as SLURM accepts it.
  await until(`scontrol requeue ${victim} to be accepted`, () => spawnSync('scontrol', ['requeue', victim], { env: slurmEnv }).status === 0, 60_000);
  say(`requeued ${victim}`);
  // SLURM holds a requeued job back for a while (its begin time moves ahead): start it now.
  await until(`requeued ${victim} to start`, () => {
    const [st, reason] = (spawnSync('squeue', ['-h', '-t', 'all', '-j', victim, '-o', '%T %r'], { env: slurmEnv, encoding: 'utf8' }).stdout ?? '').trim().split(' ');
    if (st === 'PENDING' && reason === 'BeginTime') spawnSync('scontrol', ['update', `JobId=${victim}`, 'StartTime=now'], { env: slurmEnv });
    return st === 'RUNNING' || st === 'COMPLETED';
  }, 300_000);
  say(`${victim} runs again`);
  await until(`array job ${jobId} to finish`, () => taskState(jobId) === '' && spawnSync('squeue', ['-h', '-j', jobId], { env: slurmEnv, encoding: 'utf8' }).stdout.trim() === '', 900_000);

  const log1 = fs.readFileSync(path.join(work, 'logs', 'quals-1.log'), 'utf8');
  if (!/from an earlier run/.test(log1)) throw new Error(`the requeued task did not resume its output:\n${log1}`);
  for (let k = 0; k < TASKS; k++) {
    const log = fs.readFileSync(path.join(work, 'logs', `quals-${k}.log`), 'utf8');
    if (!/quals batch: \d+ lines/.test(log)) throw new Error(`task ${k} did not finish:\n${log}`);
  }
  const merged = path.join(work, 'merged.jsonl');
  run(process.execPath, [CLI, 'merge', '--in', input, '--out', merged, ...Array.from({ length: TASKS }, (_, k) => outOf(k))], { stdio: ['ignore', 'inherit', 'inherit'] });
  const normalised = (f) =>
    fs
      .readFileSync(f, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const r = JSON.parse(l);
        delete r.timings;
        return JSON.stringify(r);
      });
  const a = normalised(merged);
  const b = normalised(single);
  if (a.length !== RECORDS || a.length !== b.length) throw new Error(`merged ${a.length} lines, single run ${b.length}, input ${RECORDS}`);
  const diff = a.findIndex((l, i) => l !== b[i]);
  if (diff !== -1) throw new Error(`line ${diff + 1} differs:\n  merged: ${a[diff].slice(0, 300)}\n  single: ${b[diff].slice(0, 300)}`);
  say(`PASS: ${TASKS} SLURM array tasks (one killed with SIGKILL and requeued) merged = the one-process run, ${RECORDS} lines identical apart from timings`);
}

let code = 0;
try {
  await main();
} catch (e) {
  code = 1;
  process.stdout.write(`test:slurm: FAILED: ${e instanceof Error ? e.message : String(e)}\n`);
  for (const f of ['slurmctld.log', 'slurmd.log', 'munge/munged.log']) {
    const p = path.join(tmp, f);
    if (fs.existsSync(p)) process.stdout.write(`--- ${f} (tail)\n${fs.readFileSync(p, 'utf8').split('\n').slice(-25).join('\n')}\n`);
  }
  const logs = path.join(tmp, 'work', 'logs');
  if (fs.existsSync(logs)) for (const f of fs.readdirSync(logs)) process.stdout.write(`--- ${f} (tail)\n${fs.readFileSync(path.join(logs, f), 'utf8').split('\n').slice(-15).join('\n')}\n`);
} finally {
  teardown();
}
process.exit(code);
