// Attention heads split the model's width: `assert config.n_embd % config.n_head == 0` (nanoGPT, minGPT), Hugging
// Face's "hidden size is not a multiple of the number of attention heads", PyTorch's "embed_dim must be divisible by
// num_heads". A change of either that leaves the width not a multiple of the heads crashes the run at model build (seen
// on nanoGPT: `n_head 8 → 6` with `n_embd = 64`), so such edits are not proposed; nor, with grouped-query attention,
// heads that are not a multiple of the key-value heads.
import type { Hyperparameter } from './hyperparameter.js';
import type { MutationCandidate } from './rules.js';

/** The number of heads: `n_head`, `num_heads`, `num_attention_heads`, `nhead`, `heads`; not `head_dim`. */
const HEADS = /^(?:n_?heads?|num_heads|num_attention_heads|attention_heads|n_attn_heads|heads)$/;
/** The width the heads split: `n_embd`, `d_model`, `hidden_size`, `embed_dim`, `dim`. */
const WIDTH = /^(?:n_embd|n_embed|n_embedding|d_model|hidden_size|embed_dim|embedding_dim|emb_dim|model_dim|dim)$/;
/** Grouped-query attention's key-value heads, which the heads are grouped by: `n_kv_head`, `num_key_value_heads`. */
const KV_HEADS = /^(?:n_kv_heads?|num_kv_heads|num_key_value_heads|kv_heads)$/;

/** Each relation: the `whole` setting must be a multiple of the `part`. */
const RELATIONS: readonly { whole: RegExp; part: RegExp }[] = [
  { whole: WIDTH, part: HEADS },
  { whole: HEADS, part: KV_HEADS },
];

interface Pair {
  whole: Hyperparameter;
  part: Hyperparameter;
}

/** A dotted name's last key, lower-cased: `model.n_head` → `n_head`; and what comes before it. */
function split(name: string): [prefix: string, key: string] {
  const dot = name.lastIndexOf('.');
  return [name.slice(0, dot + 1), name.slice(dot + 1).toLowerCase()];
}

/**
 * For each relation, the two settings of one file under one prefix (`model.n_head` with `model.n_embd`), each an
 * int, when there is exactly one of each there: with two widths (an encoder's and a decoder's) which one the heads
 * split is not told by the names, and nothing is paired.
 */
function pairs(params: readonly Hyperparameter[]): Pair[] {
  const out: Pair[] = [];
  for (const { whole, part } of RELATIONS) {
    const groups = new Map<string, { whole: Hyperparameter[]; part: Hyperparameter[] }>();
    for (const p of params) {
      if (p.kind !== 'int') continue;
      const [prefix, key] = split(p.name);
      const role = whole.test(key) ? 'whole' : part.test(key) ? 'part' : null;
      if (!role) continue;
      const id = `${p.file}\0${prefix}`;
      const g = groups.get(id) ?? { whole: [], part: [] };
      g[role].push(p);
      groups.set(id, g);
    }
    for (const g of groups.values()) if (g.whole.length === 1 && g.part.length === 1) out.push({ whole: g.whole[0]!, part: g.part[0]! });
  }
  return out;
}

/**
 * Whether an edit keeps every width a multiple of its heads (and the heads of their key-value heads), among the
 * settings the run reads (`params`): the pairs are found once, the test is asked of each edit. A pair that does not
 * divide already (the width computed elsewhere, the heads of another module) is not the proposer's to police.
 */
export function keepsHeadsWhole(params: readonly Hyperparameter[]): (c: MutationCandidate) => boolean {
  const whole = pairs(params).filter((p) => Number(p.part.text) > 0 && Number(p.whole.text) % Number(p.part.text) === 0);
  return (c) => whole.every(({ whole: w, part: h }) =>
    c.param === h ? Number(w.text) % Number(c.newText) === 0 : c.param === w ? Number(c.newText) % Number(h.text) === 0 : true);
}
