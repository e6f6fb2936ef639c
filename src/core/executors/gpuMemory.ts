// The memory of the cards a session packs runs onto (`slotsPerGpu`), so the peak memory runs report can be checked
// against it. nvidia-smi's total per card, matched to the config's `gpus` by index or by (a prefix of) the UUID, as
// CUDA_VISIBLE_DEVICES reads them; `gpuMemoryGb` in the config wins (a MIG slice, a card nvidia-smi does not list).
import { execa } from 'execa';

export interface CardMemory {
  gb: number;
  /** Where the figure came from, for messages: `nvidia-smi` or `gpuMemoryGb`. */
  source: 'nvidia-smi' | 'gpuMemoryGb';
}

/** One row of `nvidia-smi --query-gpu=index,uuid,memory.total --format=csv,noheader,nounits`. */
interface SmiCard {
  index: string;
  uuid: string;
  memoryMib: number;
}

/** The cards nvidia-smi lists; empty when it is missing, fails, or prints something else. */
export function parseSmiCards(text: string): SmiCard[] {
  const out: SmiCard[] = [];
  for (const line of text.split(/\r?\n/)) {
    const [index, uuid, mem] = line.split(',').map((s) => s.trim());
    const memoryMib = Number(mem);
    if (!index || !/^\d+$/.test(index) || !uuid || !Number.isFinite(memoryMib) || memoryMib <= 0) continue;
    out.push({ index, uuid, memoryMib });
  }
  return out;
}

/** The card `gpu` (an index, or a UUID or a unique prefix of one) names, if nvidia-smi listed it. */
function findCard(cards: SmiCard[], gpu: string): SmiCard | undefined {
  if (/^\d+$/.test(gpu)) return cards.find((c) => c.index === gpu);
  const matches = cards.filter((c) => c.uuid.toLowerCase().startsWith(gpu.toLowerCase()));
  return matches.length === 1 ? matches[0] : undefined;
}

/**
 * The memory of each of `gpus`, in GB (GiB, as memory_gb is: megabytes / 1024); a GPU missing from the map has no
 * known memory. nvidia-smi is asked only when `configured` is null; it never throws.
 */
export async function cardMemory(gpus: readonly string[], configured: number | null, cwd: string): Promise<Map<string, CardMemory>> {
  const out = new Map<string, CardMemory>();
  if (configured !== null) {
    for (const g of gpus) out.set(g, { gb: configured, source: 'gpuMemoryGb' });
    return out;
  }
  let text = '';
  try {
    const r = await execa('nvidia-smi', ['--query-gpu=index,uuid,memory.total', '--format=csv,noheader,nounits'], { cwd, timeout: 10_000, reject: false, stdin: 'ignore' });
    if (r.exitCode === 0) text = String(r.stdout);
  } catch {
    // no nvidia-smi here: every card's memory is unknown
  }
  const cards = parseSmiCards(text);
  for (const g of gpus) {
    const card = findCard(cards, g);
    if (card) out.set(g, { gb: card.memoryMib / 1024, source: 'nvidia-smi' });
  }
  return out;
}
