// Colours come only from the editor's theme (--vscode-* variables): this names which variable paints what,
// with fallbacks among theme variables for themes that leave one undefined.
import type { NodeStatus } from '../../src/shared/protocol.js';

export interface Palette {
  fg: string;
  muted: string;
  bg: string;
  keep: string;
  discard: string;
  crash: string;
  invalid: string;
  running: string;
  pending: string;
  best: string;
  baseline: string;
  /** A merge's second parent link. */
  merge: string;
  focus: string;
  font: string;
  mono: string;
  fontSize: number;
  highContrast: boolean;
}

export type ColorKey = Exclude<keyof Palette, 'font' | 'mono' | 'fontSize' | 'highContrast'>;

export const PALETTE_VARS: Record<ColorKey, readonly string[]> = {
  fg: ['--vscode-foreground', '--vscode-editor-foreground'],
  muted: ['--vscode-descriptionForeground', '--vscode-foreground'],
  bg: ['--vscode-editor-background', '--vscode-sideBar-background'],
  keep: ['--vscode-charts-green', '--vscode-testing-iconPassed', '--vscode-foreground'],
  discard: ['--vscode-descriptionForeground', '--vscode-disabledForeground', '--vscode-foreground'],
  crash: ['--vscode-charts-red', '--vscode-errorForeground', '--vscode-foreground'],
  invalid: ['--vscode-charts-orange', '--vscode-editorWarning-foreground', '--vscode-foreground'],
  running: ['--vscode-charts-blue', '--vscode-progressBar-background', '--vscode-foreground'],
  pending: ['--vscode-disabledForeground', '--vscode-descriptionForeground', '--vscode-foreground'],
  best: ['--vscode-charts-purple', '--vscode-textLink-foreground', '--vscode-foreground'],
  baseline: ['--vscode-charts-yellow', '--vscode-editorWarning-foreground', '--vscode-foreground'],
  merge: ['--vscode-charts-blue', '--vscode-textLink-foreground', '--vscode-foreground'],
  focus: ['--vscode-focusBorder', '--vscode-foreground'],
};

export function statusColor(p: Palette, status: NodeStatus): string {
  return p[status];
}

/** Resolves the palette with a lookup of variable values (getComputedStyle in the webview, a map in tests). */
export function resolvePalette(lookup: (name: string) => string, highContrast: boolean): Palette {
  const colors = {} as Record<ColorKey, string>;
  for (const [key, names] of Object.entries(PALETTE_VARS) as [ColorKey, readonly string[]][]) {
    colors[key] = names.map((n) => lookup(n).trim()).find((v) => v !== '') ?? '';
  }
  const size = Number.parseFloat(lookup('--vscode-font-size')) || 13;
  return {
    ...colors,
    font: lookup('--vscode-font-family').trim() || 'sans-serif',
    mono: lookup('--vscode-editor-font-family').trim() || 'monospace',
    fontSize: size,
    highContrast,
  };
}
