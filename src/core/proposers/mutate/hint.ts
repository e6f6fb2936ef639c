// Whether a hint's text names a parameter, so that a hinted run tests the parameter the hint is about.

/** Whether a text names a parameter: `matrix lr` names MATRIX_LR, `lr` names optimizer.lr. */
export function mentions(text: string, name: string): boolean {
  const lower = text.toLowerCase();
  const leaf = name.slice(name.lastIndexOf('.') + 1);
  return [name, name.replace(/[_.]/g, ' '), leaf, leaf.replace(/_/g, ' ')].some((n) => new RegExp(`(^|[^a-z0-9_])${escapeRegExp(n.toLowerCase())}($|[^a-z0-9_])`).test(lower));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
