// GPU packing (`slotsPerGpu`): several slots share one GPU when the user says their runs fit. Slot i runs on
// gpus[i % len], so the k-th slot on a GPU is slot k × len + (its GPU's place in the list). The card's memory
// (nvidia-smi, or `gpuMemoryGb`) is checked against the largest peak memory any run of the session reported: when
// the slots planned for a card would not fit, its extra slots take no more experiments, and the log says why. A run
// that went out of memory while another ran on its card is the same evidence, whatever the peaks said.
// What fits is worked out from the model each time, so a resumed session packs as the one it replaces did.
import { fmtMemory } from '../../shared/format.js';
import { cardMemory, type CardMemory } from '../executors/gpuMemory.js';
import type { ExperimentNode } from '../types.js';
import type { SessionContext, Slot } from './context.js';

/** What each run holds beyond the peak it reports: its CUDA context, which torch's max_memory_allocated leaves out. */
export const CONTEXT_GB = 0.5;

export class GpuPacking {
  private cards = new Map<string, CardMemory>();
  /** Per GPU, the slots last said to fit, so each reduction is told once. */
  private readonly told = new Map<string, number>();
  private toldUnmeasured = false;
  private toldFits = false;
  private readonly toldOom = new Set<number>();

  constructor(private readonly ctx: SessionContext) {}

  /** Slots per GPU as configured; 1 when nothing is packed. */
  get slotsPerGpu(): number {
    return this.ctx.config.gpus.length ? this.ctx.config.slotsPerGpu ?? 1 : 1;
  }

  /** Asks for the cards' memory once the session is open, and says what packing is in force. */
  async open(): Promise<void> {
    const { config } = this.ctx;
    if (this.slotsPerGpu <= 1) return;
    this.cards = await cardMemory(config.gpus, config.gpuMemoryGb ?? null, this.ctx.lab.root);
    const unknown = config.gpus.filter((g) => !this.cards.has(g));
    const known = config.gpus.filter((g) => this.cards.has(g)).map((g) => `GPU ${g} ${fmtMemory(this.cards.get(g)!.gb)}`);
    if (unknown.length) {
      this.ctx.log(`slotsPerGpu ${this.slotsPerGpu}: the memory of GPU ${unknown.join(', ')} is unknown (nvidia-smi did not list ${unknown.length === 1 ? 'it' : 'them'}), so runs share ${unknown.length === 1 ? 'it' : 'them'} without a memory check; set gpuMemoryGb to the card's memory to have it checked`, 'warn');
    }
    if (known.length) this.ctx.log(`GPU packing: up to ${this.slotsPerGpu} runs per GPU (${known.join(', ')}, from ${this.cards.get(config.gpus.find((g) => this.cards.has(g))!)!.source}), checked against the peak memory each run reports`);
    this.review();
  }

  /** Whether `slot` may take another experiment: always, unless its GPU cannot hold that many runs. */
  allows(slot: Slot): boolean {
    const gpus = this.ctx.config.gpus;
    if (this.slotsPerGpu <= 1 || slot.temporary) return true;
    this.review();
    const gpu = gpus[slot.index % gpus.length]!;
    return Math.floor(slot.index / gpus.length) < this.fitting(gpu);
  }

  /** Slots that still take experiments: `parallel`, less those whose GPU cannot hold them. */
  activeSlots(): number {
    const { gpus, parallel } = this.ctx.config;
    if (this.slotsPerGpu <= 1) return parallel;
    return gpus.reduce((sum, g) => sum + this.fitting(g), 0);
  }

  /** Slots the config puts on `gpu`: slotsPerGpu, or fewer when `parallel` does not fill every GPU. */
  private planned(gpu: string): number {
    const { gpus, parallel } = this.ctx.config;
    const place = gpus.indexOf(gpu);
    return Math.min(this.slotsPerGpu, Math.floor(parallel / gpus.length) + (place < parallel % gpus.length ? 1 : 0));
  }

  /** The largest peak memory a run of this session reported, and whose. */
  private peak(): { gb: number; id: number } | null {
    let best: { gb: number; id: number } | null = null;
    for (const n of this.ctx.model.nodes) {
      if (n?.memoryGb !== null && n?.memoryGb !== undefined && (!best || n.memoryGb > best.gb)) best = { gb: n.memoryGb, id: n.id };
    }
    return best;
  }

  /** The GPU slot `index` runs on. */
  private gpuOf(index: number): string {
    const gpus = this.ctx.config.gpus;
    return gpus[index % gpus.length]!;
  }

  /**
   * Runs that went out of memory on `gpu` while others ran there too, each with how many ran at once: the card could
   * not hold that many, whatever the peaks they reported.
   */
  private oomsPacked(gpu: string): { node: ExperimentNode; together: ExperimentNode[]; atOnce: number }[] {
    const nodes = this.ctx.model.nodes.filter((n): n is ExperimentNode => !!n && n.slot !== null && n.startedAt !== null && this.gpuOf(n.slot) === gpu);
    const span = (m: ExperimentNode): [number, number] => [Date.parse(m.startedAt!), m.finishedAt ? Date.parse(m.finishedAt) : Date.now()];
    const out = [];
    for (const n of nodes) {
      if (n.status !== 'crash' || !n.reason.endsWith('(out of memory)')) continue;
      const [from, to] = span(n);
      const together = nodes.filter((m) => m !== n && span(m)[0] < to && span(m)[1] > from);
      if (!together.length) continue;
      // The most runs that were on the card at one moment of its run, itself included.
      let atOnce = 1;
      for (const m of together) {
        const t = Math.max(from, span(m)[0]);
        atOnce = Math.max(atOnce, 1 + together.filter((o) => span(o)[0] <= t && span(o)[1] > t).length);
      }
      out.push({ node: n, together, atOnce });
    }
    return out;
  }

  /** Runs that fit on `gpu`, at least one: as planned, fewer at the largest peak seen, or after one ran out of memory beside others. */
  private fitting(gpu: string): number {
    const card = this.cards.get(gpu);
    const peak = this.peak();
    let fits = this.planned(gpu);
    for (const { atOnce } of this.oomsPacked(gpu)) fits = Math.min(fits, atOnce - 1);
    if (card && peak) fits = Math.min(fits, Math.floor(card.gb / (peak.gb + CONTEXT_GB)));
    return Math.max(1, fits);
  }

  /** The slots on `gpu` that take no more experiments once only `fits` run there. */
  private idled(gpu: string, fits: number): string {
    const { gpus } = this.ctx.config;
    const stopped = [];
    for (let k = fits; k < this.planned(gpu); k++) stopped.push(k * gpus.length + gpus.indexOf(gpu));
    return `slot${stopped.length === 1 ? '' : 's'} ${stopped.join(', ')} take${stopped.length === 1 ? 's' : ''} no more experiments`;
  }

  /** Tells, once each, that packing was reduced on a GPU, that it fits, or that the runs report no memory to check. */
  private review(): void {
    const { config, model } = this.ctx;
    for (const gpu of config.gpus) {
      for (const { node, together } of this.oomsPacked(gpu)) {
        if (this.toldOom.has(node.id)) continue;
        this.toldOom.add(node.id);
        const fits = this.fitting(gpu);
        this.told.set(gpu, Math.min(this.told.get(gpu) ?? this.planned(gpu), fits));
        this.ctx.log(`#${node.id} ran out of memory on GPU ${gpu} while ${together.map((m) => `#${m.id}`).join(', ')} ran there too: ${fits} run${fits === 1 ? '' : 's'} at a time on it from now on${fits < this.planned(gpu) ? ` (${this.idled(gpu, fits)})` : ''}. Its crash stands; re-run it to see whether it fits alone`, 'warn');
      }
    }
    const peak = this.peak();
    if (!peak) {
      const base = model.baseline;
      if (!this.toldUnmeasured && base?.decidedBy && this.cards.size) {
        this.toldUnmeasured = true;
        this.ctx.log(`slotsPerGpu ${this.slotsPerGpu}: the baseline reported no peak memory (memory.pattern ${config.memory.pattern} matched nothing in its log), so packed runs are not checked against the card; print it, e.g. peak_vram_mb: torch.cuda.max_memory_allocated() / 2**20`, 'warn');
      }
      return;
    }
    for (const gpu of config.gpus) {
      const card = this.cards.get(gpu);
      if (!card) continue;
      const planned = this.planned(gpu);
      const fits = this.fitting(gpu);
      const before = this.told.get(gpu) ?? planned;
      this.told.set(gpu, Math.min(before, fits));
      if (fits >= before) continue;
      const need = planned * (peak.gb + CONTEXT_GB);
      this.ctx.log(`GPU ${gpu} (${fmtMemory(card.gb)}): ${planned} runs of up to ${fmtMemory(peak.gb)} (#${peak.id}'s peak) and ${fmtMemory(CONTEXT_GB)} of CUDA context each need ${fmtMemory(need)}, more than the card has: ${fits} run${fits === 1 ? '' : 's'} at a time on it from now on (${this.idled(gpu, fits)})`, 'warn');
    }
    if (!this.toldFits && config.gpus.every((g) => !this.cards.has(g) || this.fitting(g) >= this.planned(g))) {
      this.toldFits = true;
      const g = config.gpus.find((x) => this.cards.has(x));
      if (g) this.ctx.log(`GPU packing: ${this.planned(g)} runs of ${fmtMemory(peak.gb)} (#${peak.id}'s peak) fit on GPU ${g} (${fmtMemory(this.cards.get(g)!.gb)}), with ${fmtMemory(CONTEXT_GB)} of CUDA context each`);
    }
  }
}
