// The words the engine and the results view share: which way is better, what became of an experiment, how it
// came about, who decided, and where a session stands. The engine's model (src/core/types.ts) and the message
// protocol are both written in them. No imports, so the webview compiles this file as it is.

export type Direction = 'minimize' | 'maximize';
export type NodeStatus = 'pending' | 'running' | 'keep' | 'discard' | 'crash' | 'invalid';
export type Operator = 'baseline' | 'draft' | 'improve' | 'debug' | 'merge' | 'rerun' | 'manual';
export type DecidedBy = 'rule' | 'human';
export type SessionState = 'starting' | 'running' | 'paused' | 'stopping' | 'stopped' | 'done' | 'failed';
