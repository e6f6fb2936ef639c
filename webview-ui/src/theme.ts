// Reads the editor's theme from the --vscode-* variables VS Code sets on the webview, and notices when
// the user switches themes (VS Code rewrites those variables and the body's theme class).
import { resolvePalette } from './palette.js';
import type { Palette } from './palette.js';

export function readPalette(): Palette {
  const style = getComputedStyle(document.documentElement);
  const hc = document.body.classList.contains('vscode-high-contrast') || document.body.classList.contains('vscode-high-contrast-light');
  return resolvePalette((name) => style.getPropertyValue(name), hc);
}

export function onThemeChange(listener: () => void): () => void {
  const observer = new MutationObserver(() => listener());
  observer.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  return () => observer.disconnect();
}
