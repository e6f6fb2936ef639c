// Small DOM helpers. Text always goes in through textContent: descriptions come from proposers.

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

export function button(label: string, title: string, onClick: (ev: MouseEvent) => void, cls = ''): HTMLButtonElement {
  const b = el('button', { class: `btn ${cls}`.trim(), type: 'button', title, text: label });
  b.addEventListener('click', onClick);
  return b;
}

export function toggle(label: string, title: string, pressed: boolean, onChange: (pressed: boolean) => void, cls = ''): HTMLButtonElement {
  const b = button(label, title, () => {
    const next = b.getAttribute('aria-pressed') !== 'true';
    b.setAttribute('aria-pressed', String(next));
    onChange(next);
  }, `toggle ${cls}`);
  b.setAttribute('aria-pressed', String(pressed));
  return b;
}

/** Keeps a canvas's backing store at device pixels; calls back with CSS pixel sizes. */
export function sizeCanvas(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(width * dpr));
  const h = Math.max(1, Math.round(height * dpr));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/** A PNG of what `draw` paints on a `width` × `height` canvas, at twice the size for a sharp export. */
export function pngDataUrl(width: number, height: number, draw: (g: CanvasRenderingContext2D) => void): string {
  const scale = 2;
  const canvas = document.createElement('canvas');
  canvas.width = width * scale;
  canvas.height = height * scale;
  const g = canvas.getContext('2d')!;
  g.scale(scale, scale);
  draw(g);
  return canvas.toDataURL('image/png');
}
