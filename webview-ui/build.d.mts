import type { BuildContext } from 'esbuild';

export const webviewOutDir: string;
export function buildWebview(options?: { production?: boolean; watch?: boolean }): Promise<BuildContext | undefined>;
