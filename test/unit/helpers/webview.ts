// Builders for the webview's unit tests: NodeDto and SessionDto with defaults, and a loaded store.
import type { NodeDto, SessionDto } from '../../../src/shared/protocol.js';
import { ResultsStore } from '../../../webview-ui/src/store.js';

export function dto(partial: Partial<NodeDto> & { id: number }): NodeDto {
  return {
    parentId: partial.id === 0 ? null : 0,
    operator: partial.id === 0 ? 'baseline' : 'improve',
    commit: `c${String(partial.id).padStart(6, '0')}`,
    description: `experiment ${partial.id}`,
    status: 'discard',
    metric: 1,
    memoryGb: 1,
    decidedBy: 'rule',
    reason: '',
    startedAt: null,
    finishedAt: null,
    wallMs: 1000,
    ...partial,
  };
}

export function sessionFixture(partial: Partial<SessionDto> = {}): SessionDto {
  return {
    source: { kind: 'session' },
    title: 't1',
    metricName: 'val_loss',
    direction: 'minimize',
    directionKnown: true,
    budgetSeconds: 60,
    budgetText: '60s',
    maxExperiments: 10,
    parallel: 1,
    startedAt: '2025-01-01T00:00:00.000Z',
    state: 'running',
    stateReason: null,
    bestId: null,
    errors: [],
    hostNow: '2025-01-01T01:00:00.000Z',
    ...partial,
  };
}

export function storeOf(nodes: NodeDto[], session: Partial<SessionDto> = {}): ResultsStore {
  const s = new ResultsStore();
  s.applySnapshot({ rev: 0, session: sessionFixture(session), nodes });
  return s;
}
