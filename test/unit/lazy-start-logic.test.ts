import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Detection } from '../../src/client/lazy-start-logic';

interface Doc {
  uri: string;
  summary: boolean;
  closed?: boolean;
}

/** A detection whose server "starts" by flipping a flag, as Ctx.ensureRunning sets its client at once. */
function setup() {
  const log = { reads: [] as string[], starts: [] as string[], stops: 0, changes: 0 };
  let started = false;
  const detection = new Detection<Doc>({
    key: (d) => d.uri,
    isClosed: (d) => d.closed === true,
    check: async (d) => {
      log.reads.push(d.uri);
      return d.summary;
    },
    started: () => started,
    start: (d) => {
      log.starts.push(d.uri);
      started = true;
    },
    changed: () => log.changes++,
    stop: () => log.stops++,
  });
  return { detection, log, startByCommand: () => (started = true) };
}

test('ordinary files are read and get a verdict, and start nothing', async () => {
  const { detection, log } = setup();
  await detection.consider({ uri: 'readme', summary: false });
  await detection.consider({ uri: 'readme', summary: false });
  assert.deepEqual(log.reads, ['readme', 'readme'], 'a save reads the file again while no server runs');
  assert.equal(detection.verdict('readme'), false);
  assert.equal(log.changes, 1, 'an unchanged verdict is not announced twice');
  assert.deepEqual(log.starts, []);
  assert.equal(log.stops, 0);
});

test('a summary starts the server once, and from then on nothing is read', async () => {
  const { detection, log } = setup();
  await detection.consider({ uri: 'readme', summary: false });
  await detection.consider({ uri: 's.summary.md', summary: true });
  assert.deepEqual(log.starts, ['s.summary.md']);
  assert.equal(log.stops, 1, 'the listeners are dropped');
  assert.equal(detection.verdict('s.summary.md'), true, 'the verdict holds until the server says otherwise');
  await detection.consider({ uri: 'readme', summary: false });
  await detection.consider({ uri: 'other.summary.md', summary: true });
  assert.deepEqual(log.reads, ['readme', 's.summary.md'], 'no file is read after the start');
  assert.deepEqual(log.starts, ['s.summary.md']);
  assert.equal(log.stops, 1, 'stopped once');
});

test('a server started by a command stops detection at its next event', async () => {
  const { detection, log, startByCommand } = setup();
  await detection.consider({ uri: 'readme', summary: false });
  startByCommand();
  assert.equal(detection.stopIfStarted(), true);
  assert.equal(log.stops, 1);
  await detection.consider({ uri: 's.summary.md', summary: true });
  assert.deepEqual(log.reads, ['readme']);
  assert.deepEqual(log.starts, [], 'the running server is not started again');
});

test('a file closed while it was read gets no verdict; a closed file\'s verdict is forgotten', async () => {
  const { detection, log } = setup();
  await detection.consider({ uri: 's.summary.md', summary: true, closed: true });
  assert.equal(detection.verdict('s.summary.md'), undefined);
  assert.deepEqual(log.starts, [], 'a closed summary starts no server');
  const readme = { uri: 'readme', summary: false };
  await detection.consider(readme);
  detection.forget(readme);
  assert.equal(detection.verdict('readme'), undefined);
});
