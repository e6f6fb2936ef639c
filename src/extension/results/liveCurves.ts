// The curves of running experiments as their progress events arrive: the journal records a run's curve only when
// it ends, so a webview that opens (or comes back) mid-run gets the points so far from here. No vscode: tested in Node.
import type { ControllerEvent } from '../../core/controller.js';
import type { SessionModel } from '../../core/model.js';
import type { ExperimentNode } from '../../core/types.js';
import { appendLivePoint } from '../../shared/protocol.js';
import type { CurvePointDto, NodeDto } from '../../shared/protocol.js';
import { curveDto, nodeDto } from '../../core/report/snapshot.js';

type Progress = Extract<ControllerEvent, { type: 'run-progress' }>;

export class LiveCurves {
  private readonly curves = new Map<number, CurvePointDto[]>();

  /** Records the point a progress event carries; returns it as the wire has it, or undefined when it carries none. */
  add(e: Progress): CurvePointDto | undefined {
    if (!e.point) return undefined;
    const [p] = curveDto([e.point]);
    let list = this.curves.get(e.nodeId);
    if (!list) this.curves.set(e.nodeId, (list = []));
    appendLivePoint(list, p!);
    return p;
  }

  /** The points so far of a node's run. */
  get(id: number): readonly CurvePointDto[] | undefined {
    return this.curves.get(id);
  }

  /** Forgets the runs that are over (the journal has their curve now) and those of another session. */
  prune(model: SessionModel | undefined): void {
    for (const id of this.curves.keys()) if (model?.get(id)?.status !== 'running') this.curves.delete(id);
  }

  clear(): void {
    this.curves.clear();
  }

  /** The node as the webview sees it, with its live curve while it runs and the journal has none yet. */
  dto(n: ExperimentNode): NodeDto {
    const d = nodeDto(n);
    const live = this.curves.get(n.id);
    return !d.curve && live?.length && n.status === 'running' ? { ...d, curve: [...live] } : d;
  }
}
