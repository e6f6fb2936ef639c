// A confirmation that does not cover what it asks about: a quick pick that stays open while the person reads
// (and scrolls, or edits) the config or diff beside it, unlike a modal dialog. Enter on an item answers,
// Escape or closing it answers undefined; the pick is disposed either way.
import * as vscode from 'vscode';

export interface ConfirmOptions<T extends vscode.QuickPickItem> {
  title: string;
  placeholder: string;
  items: readonly T[];
}

export function confirmPick<T extends vscode.QuickPickItem>(o: ConfirmOptions<T>): Promise<T | undefined> {
  const pick = vscode.window.createQuickPick<T>();
  pick.title = o.title;
  pick.placeholder = o.placeholder;
  pick.items = o.items;
  // A click into the editor beside (to scroll the diff, to edit the config) must not answer for the person.
  pick.ignoreFocusOut = true;
  pick.matchOnDescription = true;
  return new Promise<T | undefined>((resolve) => {
    let answer: T | undefined;
    pick.onDidAccept(() => {
      answer = pick.selectedItems[0] ?? pick.activeItems[0];
      pick.hide();
    });
    pick.onDidHide(() => {
      pick.dispose();
      resolve(answer);
    });
    pick.show();
  });
}
