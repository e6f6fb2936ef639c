import { openSession } from '../../core/openSession.js';
import { directionText, fmtNum } from '../../shared/format.js';
import type { Command, CommandContext } from '../command.js';
import { configSource } from '../locate.js';
import { ProgressLine } from '../progressLine.js';

export const runCommand: Command = { run };

/** `run`: starts or resumes the session and prints its experiments until it ends; Ctrl-C stops it, twice quits. */
async function run({ cwd, o, io }: CommandContext): Promise<number> {
  const session = await openSession({ ...await configSource(cwd, o), restart: o.restart });
  const { config, controller } = session;
  const progress = new ProgressLine(io, config);
  controller.onEvent((e) => progress.handle(e));
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) {
      progress.clear();
      io.err('Stopping: ending the running experiment (Ctrl-C again to quit now; the session resumes with `autoresearch run`).');
      controller.stop();
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const outcome = await controller.run();
    progress.clear();
    const m = outcome.model;
    const base = m.baseline;
    const best = outcome.best;
    io.out('');
    io.out(`Session ${config.tag} ${outcome.state}: ${/[.!?]$/.test(outcome.reason) ? outcome.reason : `${outcome.reason}.`}`);
    if (base?.metric != null && best?.metric != null) io.out(`${config.metric.name}: baseline ${fmtNum(base.metric)} -> best ${fmtNum(best.metric)} (#${best.id}, commit ${best.commit?.slice(0, 7)}, ${directionText(config.metric.direction)})`);
    io.out(`results:  ${controller.paths.results}`);
    io.out(`summary:  ${controller.paths.summary}`);
    io.out(`tree:     autoresearch tree${o.config ? ` --config ${o.config}` : ''}   (branch autoresearch/${config.tag} points at the best)`);
    return outcome.state === 'failed' ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    session.dispose();
  }
}
