// GPU packing (`slotsPerGpu`): several slots share one GPU when the user says their runs fit. Slot i runs on
// gpus[i % len], so the k-th slot on a GPU is slot k × len + (its GPU's place in the list). The card's memory
// (nvidia-smi, or `gpuMemoryGb`) is checked against the largest peak memory any run of the session reported: when
// the slots planned for a card would not fit, its extra slots take no more experiments, and the log says why.
// What fits is worked out from the model each time, so a resumed session packs as the one it replaces did.
import { fmtMemory } from '../../shared/format.js';
import { cardMemory, type CardMemory } from '../gpuMemory.js';
import type { SessionContext, Slot } from './context.js';

/** What each run holds beyond the peak it reports: its CUDA context, which torch's max_memory_allocated leaves out. */
export const CONTEXT_GB = 0.5;

export class GpuPacking {
  private cards = new Map<string, CardMemory>();
  /** Per GPU, the slots last said to fit, so each reduction is told once. */
  private readonly told = new Map<string, number>();
  private toldUnmeasured = false;
  private toldFits = false;

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

  /** Runs that fit on `gpu` at the largest peak seen, at least one; as planned while either is unknown. */
  private fitting(gpu: string): number {
    const card = this.cards.get(gpu);
    const peak = this.peak();
    const planned = this.planned(gpu);
    if (!card || !peak) return planned;
    return Math.max(1, Math.min(planned, Math.floor(card.gb / (peak.gb + CONTEXT_GB))));
  }

  /** Tells, once each, that packing was reduced on a GPU, that it fits, or that the runs report no memory to check. */
  private review(): void {
    const { config, model } = this.ctx;
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
      const idle = config.gpus.length;
      const stopped = [];
      for (let k = fits; k < planned; k++) stopped.push(k * idle + config.gpus.indexOf(gpu));
      this.ctx.log(`GPU ${gpu} (${fmtMemory(card.gb)}): ${planned} runs of up to ${fmtMemory(peak.gb)} (#${peak.id}'s peak) and ${fmtMemory(CONTEXT_GB)} of CUDA context each need ${fmtMemory(need)}, more than the card has: ${fits} run${fits === 1 ? '' : 's'} at a time on it from now on (slot${stopped.length === 1 ? '' : 's'} ${stopped.join(', ')} take${stopped.length === 1 ? 's' : ''} no more experiments)`, 'warn');
    }
    if (!this.toldFits && config.gpus.every((g) => !this.cards.has(g) || this.fitting(g) >= this.planned(g))) {
      this.toldFits = true;
      const g = config.gpus.find((x) => this.cards.has(x));
      if (g) this.ctx.log(`GPU packing: ${this.planned(g)} runs of ${fmtMemory(peak.gb)} (#${peak.id}'s peak) fit on GPU ${g} (${fmtMemory(this.cards.get(g)!.gb)}), with ${fmtMemory(CONTEXT_GB)} of CUDA context each`);
    }
  }
}
