/**
 * The sampler's self-accounting in every report of `procprobe run` (issue 13 item 4): `--json`,
 * the history index (decoded here with msgpackr, not by the store), the terminal line and its
 * warning, `show`, and the HTML report. The warning is forced the robust way: at --interval 0.1
 * a tree sampler either uses well over 2 % of a core or, on a machine too loaded to give it one,
 * misses over 1 % of its deadlines; the test checks that what it says matches the figures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, lineMatching, newDataDir, readIndex, runCli } from './helpers/cli.js';

afterEach(() => cleanup());

/** About 300 ms of CPU in the command itself. */
const BURN = ['node', '-e', 'const t = Date.now(); while (Date.now() - t < 300);'];

describe.runIf(process.platform === 'linux')('procprobe run: the sampler accounts for itself', () => {
  it('--json and the history index carry it; the records are the file\'s; the warning matches the figures', async () => {
    const dataDir = newDataDir();
    const r = await runCli(['run', '--json', '--interval', '0.1', '--data-dir', dataDir, '--', ...BURN]);
    expect(r.code, r.stderr).toBe(0);
    const run = JSON.parse(r.stdout).runs[0];
    const a = run.sampler;
    expect(a.intervalMs).toBe(0.1);
    expect(a.cpuMs).toBeGreaterThan(0);
    // The history writer counted the records it put in the file, in its own worker.
    expect(a.records).toBe(run.sampleAccount.inFile);
    expect(a.corePercent > 2 || a.missedPercent > 1, JSON.stringify(a)).toBe(true);
    const entry = readIndex(dataDir).find((s) => s.id === run.sessionId);
    expect(entry.sampler).toEqual(a);

    // show: the same account from history, one line, and the warning naming --interval.
    const show = await runCli(['show', run.sessionId, '--data-dir', dataDir]);
    expect(show.code, show.stderr).toBe(0);
    const line = lineMatching(show.stdout, /^sampler: /);
    expect(line).toContain(`${a.cpuMs.toFixed(1)} ms CPU (${a.corePercent.toFixed(1)} % of a core)`);
    expect(line).toContain(`${a.missedDeadlines} deadlines missed`);
    expect(lineMatching(show.stdout, /^! the sampler /)).toContain('a longer --interval (now 0.1 ms) lowers it');

    // The HTML report: a Sampler card with the share, and the warning.
    const html = join(dataDir, '..', 'report.html');
    const rep = await runCli(['report', run.sessionId, '--data-dir', dataDir, '--html', html]);
    expect(rep.code, rep.stderr).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/<div class="k">Sampler<\/div><div class="v">[\d.]+ % of a core<\/div>/);
    expect(page).toContain('class="note sampler-warning"');
  }, 120_000);

  it('the terminal report of run prints the line and the warning', async () => {
    const r = await runCli(['run', '--interval', '0.1', '--data-dir', newDataDir(), '--', ...BURN]);
    expect(r.code, r.stderr).toBe(0);
    const line = lineMatching(r.stdout, /^sampler: /);
    expect(line).toMatch(/^sampler: [\d.]+ ms CPU \([\d.]+ % of a core\) over .+, \d+ Hz of 10000 Hz, \d+ deadlines missed \([\d.]+ %\)$/);
    const warning = lineMatching(r.stdout, /^! the sampler /);
    expect(warning).toMatch(/(used [\d.]+ % of a core|missed [\d.]+ % of its deadlines)/);
    expect(warning).toContain('a longer --interval (now 0.1 ms) lowers it');
  }, 120_000);
});
