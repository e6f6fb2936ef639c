// A page that hosts the built webview (dist/webview) outside VS Code, for the benchmark: a stand-in for
// acquireVsCodeApi and the theme variables VS Code would set (Dark Modern and Light Modern values).
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DARK: Record<string, string> = {
  'foreground': '#cccccc', 'editor-foreground': '#cccccc', 'descriptionForeground': '#9d9d9d', 'disabledForeground': '#cccccc80',
  'editor-background': '#1f1f1f', 'panel-border': '#2b2b2b', 'widget-border': '#313131', 'focusBorder': '#0078d4',
  'charts-green': '#89d185', 'charts-red': '#f14c4c', 'charts-orange': '#d18616', 'charts-blue': '#3794ff', 'charts-purple': '#b180d7',
  'charts-yellow': '#cca700', 'charts-foreground': '#cccccc', 'errorForeground': '#f85149', 'editorWarning-foreground': '#cca700',
  'button-background': '#0078d4', 'button-foreground': '#ffffff', 'button-hoverBackground': '#026ec1', 'button-secondaryBackground': '#313131',
  'button-secondaryForeground': '#cccccc', 'button-secondaryHoverBackground': '#3c3c3c', 'badge-background': '#616161', 'badge-foreground': '#f8f8f8',
  'input-background': '#313131', 'input-foreground': '#cccccc', 'input-border': '#3c3c3c', 'input-placeholderForeground': '#989898',
  'list-hoverBackground': '#2a2d2e', 'list-activeSelectionBackground': '#04395e', 'list-activeSelectionForeground': '#ffffff',
  'list-inactiveSelectionBackground': '#37373d', 'list-focusOutline': '#0078d4', 'toolbar-hoverBackground': '#5a5d5e50',
  'editorHoverWidget-background': '#202020', 'editorHoverWidget-foreground': '#cccccc', 'editorHoverWidget-border': '#454545', 'widget-shadow': '#0000005c',
  'inputValidation-warningBackground': '#352a05', 'font-family': 'system-ui, sans-serif', 'font-size': '13px', 'font-weight': 'normal',
  'editor-font-family': 'monospace',
};

const LIGHT: Record<string, string> = {
  ...DARK,
  'foreground': '#3b3b3b', 'editor-foreground': '#3b3b3b', 'descriptionForeground': '#3b3b3b', 'disabledForeground': '#61616180',
  'editor-background': '#ffffff', 'panel-border': '#e5e5e5', 'widget-border': '#e5e5e5', 'focusBorder': '#005fb8',
  'charts-green': '#388a34', 'charts-red': '#e51400', 'charts-orange': '#d18616', 'charts-blue': '#1a85ff', 'charts-purple': '#652d90',
  'charts-yellow': '#bf8803', 'button-background': '#005fb8', 'button-secondaryBackground': '#e5e5e5', 'button-secondaryForeground': '#3b3b3b',
  'button-secondaryHoverBackground': '#cccccc', 'badge-background': '#cccccc', 'badge-foreground': '#3b3b3b', 'input-background': '#ffffff',
  'input-foreground': '#3b3b3b', 'input-border': '#cecece', 'list-hoverBackground': '#f2f2f2', 'list-activeSelectionBackground': '#e8e8e8',
  'list-activeSelectionForeground': '#000000', 'list-inactiveSelectionBackground': '#e4e6f1', 'editorHoverWidget-background': '#f8f8f8',
  'editorHoverWidget-foreground': '#3b3b3b', 'editorHoverWidget-border': '#c8c8c8', 'inputValidation-warningBackground': '#f6f5d2',
};

function vars(map: Record<string, string>): string {
  return Object.entries(map).map(([k, v]) => `--vscode-${k}: ${v};`).join(' ');
}

/** Writes the page and a copy of the built webview into a temporary folder; returns the page's file URL. */
export function writeHarness(distDir: string, theme: 'dark' | 'light' = 'dark'): string {
  const dir = mkdtempSync(join(tmpdir(), 'webview-harness-'));
  copyFileSync(join(distDir, 'main.js'), join(dir, 'main.js'));
  copyFileSync(join(distDir, 'styles.css'), join(dir, 'styles.css'));
  writeFileSync(join(dir, 'index.html'), `<!DOCTYPE html>
<html lang="en" style="${vars(theme === 'dark' ? DARK : LIGHT)}">
<head><meta charset="UTF-8"><link rel="stylesheet" href="styles.css"><title>results harness</title>
<script>
  window.__posted = [];
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__posted.push(m),
    getState: () => window.__state,
    setState: (s) => { window.__state = s; },
  });
</script></head>
<body class="vscode-${theme}"><div id="app"></div><script src="main.js"></script></body></html>
`);
  return `file://${join(dir, 'index.html')}`;
}
