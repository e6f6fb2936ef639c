// When the model needs the person (no consent, out of quota, no model): the session pauses rather than
// crashes. Running experiments finish, the person is told why, and the proposal is tried again on Resume;
// Stop (or the proposal being cancelled) gives up on it. Plain logic over a small session interface, so
// it is tested without VS Code.
import type { BlockedHandler } from '../../core/proposers/llm.js';
import type { ModelError } from '../../core/proposers/transport.js';

export interface PausableSession {
  readonly phase: string;
  pause(): Promise<void>;
  waitFor(test: (phase: string) => boolean, timeoutMs: number): Promise<string>;
}

export interface BlockedUi {
  /** Shows why the session paused; resolves when the person chose (or dismissed). Not awaited by the pause. */
  tell(message: string): void;
}

/** Phases after which a blocked proposal is given up. */
const GIVE_UP = new Set(['stopping', 'stopped', 'done', 'failed', 'interrupted', 'none']);

export function pauseWhenBlocked(session: PausableSession, ui: BlockedUi): BlockedHandler {
  return async (error: ModelError, signal: AbortSignal) => {
    if (signal.aborted) return 'fail';
    await session.pause();
    ui.tell(`AutoResearch paused: ${error.message}. Resume to try again.`);
    const cancelled = new Promise<'fail'>((resolve) => signal.addEventListener('abort', () => resolve('fail'), { once: true }));
    // Paused first (the pause may take a moment to show), then running again or gone.
    const resumed = session.waitFor((p) => p === 'paused' || GIVE_UP.has(p), 0)
      .then(() => session.waitFor((p) => p === 'running' || GIVE_UP.has(p), 0))
      .then((p): 'retry' | 'fail' => (p === 'running' ? 'retry' : 'fail'));
    return Promise.race([resumed, cancelled]);
  };
}
