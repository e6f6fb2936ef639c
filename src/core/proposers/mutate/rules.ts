// The mutation rules: how one value is changed (floats and ints scaled, betas and momenta by their distance from 1,
// powers stepped, bools flipped, choices switched, ranges and below-one values respected), each edit with its editKey, plan clause and reason.
import { POWER, type Hyperparameter } from './hyperparameter.js';
import { wordsOf } from './names.js';

/** One possible edit: a parameter and its new value text. */
export interface MutationCandidate {
  param: Hyperparameter;
  newText: string;
  editKey: string;
  /** A clause for the plan: `Double LR`. */
  action: string;
  /** Why it is worth a run. */
  because: string;
  /** A step of about a quarter (× 1.25, × 0.8): tried after the doubling and the halving. */
  fine: boolean;
}

// A float whose name has one of these words, and whose value is in [0, 1], stays below 1: a beta, momentum, EMA
// decay, dropout, a fraction (of the steps, for exploration), or a reinforcement learner's discount (`gamma`) and GAE
// `lambda` of 1 or more breaks the run.
const BELOW_ONE = new Set(['beta', 'beta1', 'beta2', 'beta3', 'betas', 'momentum', 'dropout', 'drop', 'pdrop', 'prob', 'ema', 'smoothing', 'fraction', 'frac', 'gamma', 'lambda', 'lam', 'discount']);
// An averaging coefficient (Adam's betas, a momentum, an EMA decay, a discount) of 0.5 or more matters by its distance
// from 1: 0.99 is tried as 0.98 or 0.995, not halved to 0.495 (seen on nanoGPT's `beta2 = 0.99`: only 0.495 and 0.792
// were left; CleanRL's `gamma = 0.99` went to 1.98).
const AVERAGE = new Set(['beta', 'beta1', 'beta2', 'beta3', 'betas', 'momentum', 'ema', 'gamma', 'lambda', 'lam', 'discount']);

/** Every edit of one parameter, in a fixed order, none equal to the current value. */
export function candidatesFor(p: Hyperparameter): MutationCandidate[] {
  const out: MutationCandidate[] = [];
  const seen = new Set<string>([p.text]);
  const add = (newText: string, action: string, because: string, factor = 2): void => {
    if (seen.has(newText)) return;
    seen.add(newText);
    out.push({ param: p, newText, editKey: editKeyOf(p.file, p.name, newText), action, because, fine: factor === 1.25 || factor === 0.8 });
  };
  const below1 = !p.range && belowOne(p);
  const inRange = (v: number): boolean => (p.range ? v >= p.range[0] && v <= p.range[1] : !below1 || (v >= 0 && v < 1));
  switch (p.kind) {
    case 'bool': {
      const flipped = { True: 'False', False: 'True', true: 'false', false: 'true' }[p.text as 'True'] ?? p.text;
      const on = flipped === 'True' || flipped === 'true';
      add(flipped, `${on ? 'Enable' : 'Disable'} ${p.name}`, `to test whether the model does better ${on ? 'with' : 'without'} it`);
      break;
    }
    case 'choice':
      for (const c of p.choices ?? []) {
        const n = Number(c);
        if (c.trim() !== '' && Number.isFinite(n) && !inRange(n)) continue;
        add(c, `Switch ${p.name} from ${p.text} to ${c}`, 'to compare it with the current choice');
      }
      break;
    case 'float': {
      const v = Number(p.text);
      if (v === 0) {
        for (const n of [0.1, 0.01]) if (inRange(n)) add(formatFloat(n, p.text), `Set ${p.name} to ${formatFloat(n, p.text)}`, 'to test whether a non-zero value helps');
        break;
      }
      if (nearOne(p)) {
        for (const f of [2, 0.5, 1.25, 0.8]) {
          const n = Number((1 - (1 - v) * f).toPrecision(6));
          if (!inRange(n) || n >= 1 || n <= 0) continue;
          add(formatFloat(n, p.text), averageAction(p.name, f), averageReason(f), f);
        }
        break;
      }
      for (const f of [2, 0.5, 1.25, 0.8]) {
        const n = Number((v * f).toPrecision(6));
        if (n === 0 || !inRange(n)) continue;
        add(formatFloat(n, p.text), scaleAction(p.name, f), scaleReason(f), f);
      }
      break;
    }
    case 'int': {
      const v = Number(p.text);
      const sign = v < 0 ? -1 : 1;
      const a = Math.abs(v);
      if (a === 0) {
        if (inRange(1)) add('1', `Set ${p.name} to 1`, 'to test whether a non-zero value helps');
        break;
      }
      const step = Math.max(1, Math.round(a * 0.25));
      for (const [n, f] of [[a * 2, 2], [Math.round(a / 2), 0.5], [a + step, 1.25], [a - step, 0.8]] as const) {
        if (n < 1 || !inRange(sign * n)) continue;
        add(String(sign * n), scaleAction(p.name, f), scaleReason(f), f);
      }
      break;
    }
    case 'power': {
      const [, base = '2', op = '**', exp = '0'] = POWER.exec(p.text)!;
      const e = Number(exp);
      for (const [n, f] of [[e + 1, 2], [e - 1, 0.5]] as const) {
        if (n < 0 || !inRange(Number(base) ** n)) continue;
        add(`${base}${op}${n}`, Number(base) === 2 ? scaleAction(p.name, f) : `${f > 1 ? 'Raise' : 'Lower'} ${p.name}'s exponent`, scaleReason(f));
      }
      break;
    }
  }
  return out;
}

export function editKeyOf(file: string, name: string, newText: string): string {
  return `${file}:${name}=${newText}`;
}

/** A float in [0, 1] named like a beta, a momentum or a dropout (BELOW_ONE) is kept below 1. */
function belowOne(p: Hyperparameter): boolean {
  const v = Number(p.text);
  return p.kind === 'float' && v >= 0 && v <= 1 && wordsOf(p.name.slice(p.name.lastIndexOf('.') + 1)).some((w) => BELOW_ONE.has(w));
}

/** A float in [0.5, 1) named like an averaging coefficient (AVERAGE): edited by its distance from 1. */
function nearOne(p: Hyperparameter): boolean {
  const v = Number(p.text);
  return p.kind === 'float' && v >= 0.5 && v < 1 && wordsOf(p.name.slice(p.name.lastIndexOf('.') + 1)).some((w) => AVERAGE.has(w));
}

/** `factor` scales the distance from 1: 2 takes 0.99 to 0.98 (a shorter average), 0.5 to 0.995 (a longer one). */
function averageAction(name: string, factor: number): string {
  if (factor === 2) return `Lower ${name} to twice its distance from 1`;
  if (factor === 0.5) return `Raise ${name} to half its distance from 1`;
  return factor > 1 ? `Lower ${name} slightly` : `Raise ${name} slightly`;
}

function averageReason(factor: number): string {
  const span = factor > 1 ? 'shorter' : 'longer';
  return factor === 2 || factor === 0.5 ? `to test whether a ${span} average helps` : `to probe whether a slightly ${span} average helps`;
}

function scaleAction(name: string, factor: number): string {
  if (factor === 2) return `Double ${name}`;
  if (factor === 0.5) return `Halve ${name}`;
  return factor > 1 ? `Raise ${name} by about a quarter` : `Lower ${name} by about a fifth`;
}

function scaleReason(factor: number): string {
  if (factor === 2) return 'to test whether it is set too low';
  if (factor === 0.5) return 'to test whether it is set too high';
  return factor > 1 ? 'to probe whether a slightly larger value helps' : 'to probe whether a slightly smaller value helps';
}

/**
 * A float written like the original: scientific when it was (`1e-3` -> `5e-4`, `3.0e-4` -> `6.0e-4`: a YAML 1.1
 * reader takes `6e-4` for a string), otherwise plain decimal that still reads as a float (`2.0`, not `2`); at most
 * 6 significant digits, never `0.30000000000000004`.
 */
export function formatFloat(value: number, original: string): string {
  const v = Number(value.toPrecision(6));
  const e = /[eE]/.exec(original)?.[0];
  if (e) {
    const [mantissa = '0', exponent = '0'] = v.toExponential().split('e');
    const dotted = /\.\d*[eE]/.test(original) && !mantissa.includes('.') ? `${mantissa}.0` : mantissa;
    return `${dotted}${e}${Number(exponent)}`;
  }
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}
