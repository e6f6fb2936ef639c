// What `activate` returns: the extension's live parts, for the integration tests and for other extensions
// that want to follow a session. Read-only use is the contract; steering goes through the commands.
import type { ExperimentsView } from './tree/experimentsView.js';
import type { ProtectedFiles } from './protectedFiles.js';
import type { SessionService } from './session/sessionService.js';
import type { StatusBar } from './statusBar.js';

export interface AutoResearchApi {
  readonly session: SessionService;
  readonly experiments: ExperimentsView;
  readonly statusBar: StatusBar;
  readonly protectedFiles: ProtectedFiles;
}
