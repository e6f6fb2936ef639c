// A short sequence of quick picks and input boxes with a step counter and a Back button, after the
// multi-step input sample in vscode-extension-samples. Escape cancels the whole flow.
import * as vscode from 'vscode';

class FlowAction {
  static readonly back = new FlowAction();
  static readonly cancel = new FlowAction();
}

export type Step = (input: MultiStepInput) => Thenable<Step | void>;

export interface PickOptions<T extends vscode.QuickPickItem> {
  title: string;
  step: number;
  totalSteps: number;
  items: readonly T[];
  placeholder: string;
  active?: readonly T[];
  canSelectMany?: boolean;
  /** For canSelectMany: the items ticked at first. */
  selected?: readonly T[];
}

export interface InputOptions {
  title: string;
  step: number;
  totalSteps: number;
  value: string;
  prompt: string;
  placeholder?: string;
  validate: (value: string) => string | undefined;
  /** Buttons beside Back: pressing one resolves the input with the button instead of a value. */
  buttons?: readonly InputButton[];
}

/** A button of an input box that offers another way to answer (run something, pick from a list). */
export class InputButton implements vscode.QuickInputButton {
  constructor(readonly iconPath: vscode.ThemeIcon, readonly tooltip: string) {}
}

export class MultiStepInput {
  private current: vscode.QuickInput | undefined;
  private readonly steps: Step[] = [];

  /** Runs the steps; resolves true when the last one finished, false when cancelled. */
  static async run(start: Step): Promise<boolean> {
    return new MultiStepInput().stepThrough(start);
  }

  private async stepThrough(start: Step): Promise<boolean> {
    let step: Step | void = start;
    try {
      while (step) {
        this.steps.push(step);
        if (this.current) {
          this.current.enabled = false;
          this.current.busy = true;
        }
        try {
          step = await step(this);
        } catch (err) {
          if (err === FlowAction.back) {
            this.steps.pop();
            step = this.steps.pop();
          } else if (err === FlowAction.cancel) {
            return false;
          } else throw err;
        }
      }
      return true;
    } finally {
      this.current?.dispose();
    }
  }

  private replace(input: vscode.QuickInput): void {
    this.current?.dispose();
    this.current = input;
    input.show();
  }

  async pick<T extends vscode.QuickPickItem>(o: PickOptions<T> & { canSelectMany: true }): Promise<T[]>;
  async pick<T extends vscode.QuickPickItem>(o: PickOptions<T>): Promise<T>;
  async pick<T extends vscode.QuickPickItem>(o: PickOptions<T>): Promise<T | T[]> {
    const disposables: vscode.Disposable[] = [];
    try {
      return await new Promise<T | T[]>((resolve, reject) => {
        const input = vscode.window.createQuickPick<T>();
        input.title = o.title;
        input.step = o.step;
        input.totalSteps = o.totalSteps;
        input.placeholder = o.placeholder;
        input.ignoreFocusOut = true;
        input.matchOnDescription = true;
        input.canSelectMany = o.canSelectMany ?? false;
        input.items = o.items;
        if (o.active) input.activeItems = o.active;
        if (o.selected) input.selectedItems = o.selected;
        input.buttons = this.steps.length > 1 ? [vscode.QuickInputButtons.Back] : [];
        disposables.push(
          input.onDidTriggerButton((b) => { if (b === vscode.QuickInputButtons.Back) reject(FlowAction.back); }),
          input.onDidAccept(() => {
            if (input.canSelectMany) resolve([...input.selectedItems]);
            else if (input.activeItems[0]) resolve(input.activeItems[0]);
          }),
          input.onDidHide(() => reject(FlowAction.cancel)),
        );
        this.replace(input);
      });
    } finally {
      for (const d of disposables) d.dispose();
    }
  }

  async input(o: InputOptions & { buttons: readonly InputButton[] }): Promise<string | InputButton>;
  async input(o: InputOptions): Promise<string>;
  async input(o: InputOptions): Promise<string | InputButton> {
    const disposables: vscode.Disposable[] = [];
    try {
      return await new Promise<string | InputButton>((resolve, reject) => {
        const input = vscode.window.createInputBox();
        input.title = o.title;
        input.step = o.step;
        input.totalSteps = o.totalSteps;
        input.value = o.value;
        input.prompt = o.prompt;
        input.placeholder = o.placeholder;
        input.ignoreFocusOut = true;
        input.buttons = [...(this.steps.length > 1 ? [vscode.QuickInputButtons.Back] : []), ...(o.buttons ?? [])];
        input.validationMessage = o.validate(o.value);
        disposables.push(
          input.onDidTriggerButton((b) => {
            if (b === vscode.QuickInputButtons.Back) reject(FlowAction.back);
            else if (b instanceof InputButton) resolve(b);
          }),
          input.onDidChangeValue((v) => { input.validationMessage = o.validate(v); }),
          input.onDidAccept(() => {
            const message = o.validate(input.value);
            input.validationMessage = message;
            if (!message) resolve(input.value.trim());
          }),
          input.onDidHide(() => reject(FlowAction.cancel)),
        );
        this.replace(input);
      });
    } finally {
      for (const d of disposables) d.dispose();
    }
  }
}
