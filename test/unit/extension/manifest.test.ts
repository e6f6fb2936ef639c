// package.json and src/extension/constants.ts name the same commands, views, settings and context keys:
// checked both ways, so a contribution without code (or code without a contribution) fails here.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Commands, ContextKeys, NODE_SCHEME, NodeContext, Settings, ViewContainers, Views, Walkthroughs } from '../../../src/extension/constants.js';
import { RESULTS_VIEW_TYPE } from '../../../src/shared/protocol.js';

const root = join(import.meta.dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  main: string;
  activationEvents: string[];
  extensionKind: string[];
  capabilities: { untrustedWorkspaces: { supported: boolean } };
  contributes: {
    commands: { command: string; title: string; category?: string; icon?: string }[];
    viewsContainers: { activitybar: { id: string; icon: string }[] };
    views: Record<string, { id: string; icon?: string }[]>;
    viewsWelcome: { view: string; contents: string; when?: string }[];
    menus: Record<string, { command: string; when?: string; group?: string }[]>;
    keybindings: { command: string; when?: string }[];
    configuration: { properties: Record<string, unknown> };
    walkthroughs: { id: string; steps: { id: string; description: string; media: { markdown?: string; image?: string } }[] }[];
  };
};
const c = pkg.contributes;
const values = (o: Record<string, string>) => Object.values(o).sort();

/** Every `when` and `contents` text of the manifest, for the keys and commands they name. */
function allConditions(): string[] {
  return [
    ...Object.values(c.menus).flat().map((m) => m.when ?? ''),
    ...c.keybindings.map((k) => k.when ?? ''),
    ...c.viewsWelcome.map((w) => w.when ?? ''),
  ];
}

describe('package.json and src/extension/constants.ts', () => {
  it('contribute exactly the commands the constants name', () => {
    assert.deepEqual(c.commands.map((x) => x.command).sort(), values(Commands));
    for (const cmd of c.commands) assert.equal(cmd.category, 'AutoResearch', `${cmd.command} has no AutoResearch category`);
  });

  it('use only contributed commands in menus, keybindings, welcome views and walkthroughs', () => {
    const known = new Set(c.commands.map((x) => x.command));
    for (const [menu, items] of Object.entries(c.menus)) {
      for (const m of items) assert.ok(known.has(m.command), `${menu} names ${m.command}, which is not contributed`);
    }
    for (const k of c.keybindings) assert.ok(known.has(k.command), `keybinding names ${k.command}`);
    const links = [...c.viewsWelcome.map((w) => w.contents), ...c.walkthroughs.flatMap((w) => w.steps.map((s) => s.description))].join('\n');
    for (const m of links.matchAll(/command:(autoresearch\.[\w.]+?)(?:[)?]|$)/g)) {
      const id = m[1]!;
      const isViewFocus = id.endsWith('.focus') && values(Views).includes(id.slice(0, -'.focus'.length));
      assert.ok(known.has(id) || isViewFocus, `a link runs ${id}, which is not contributed`);
    }
  });

  it('give every inline tree action and view-title button an icon', () => {
    const byId = new Map(c.commands.map((x) => [x.command, x]));
    for (const m of [...c.menus['view/title']!, ...c.menus['view/item/context']!].filter((x) => /^(navigation|inline)/.test(x.group ?? ''))) {
      assert.ok(byId.get(m.command)?.icon, `${m.command} is shown as a button but has no icon`);
    }
  });

  it('contribute exactly the views and the view container the constants name', () => {
    assert.deepEqual(c.viewsContainers.activitybar.map((v) => v.id), values(ViewContainers));
    assert.deepEqual(Object.values(c.views).flat().map((v) => v.id).sort(), values(Views));
    assert.deepEqual(Object.keys(c.views), values(ViewContainers));
    for (const w of c.viewsWelcome) assert.ok(values(Views).includes(w.view), `welcome content for unknown view ${w.view}`);
  });

  it('contribute exactly the settings the constants name', () => {
    assert.deepEqual(Object.keys(c.configuration.properties).sort(), values(Settings));
  });

  it('use only the context keys the constants name, and use each of them', () => {
    const ours = new Set(Object.values(ContextKeys));
    const used = new Set<string>();
    for (const cond of allConditions()) {
      // The config file's name is a value, not a key.
      for (const m of cond.replace(/autoresearch\.config\.yaml/g, '').matchAll(/\bautoresearch\.[A-Za-z]+\b/g)) {
        if (values(Views).includes(m[0])) continue;
        used.add(m[0]);
        assert.ok(ours.has(m[0] as never), `a when clause uses ${m[0]}, which constants.ts does not name`);
      }
    }
    for (const key of ours) {
      // Keys for other surfaces (the phase and owner) may be unused by the manifest, but not unknown to it.
      if (key === ContextKeys.phase || key === ContextKeys.owner) continue;
      assert.ok(used.has(key), `constants.ts names the context key ${key}, but no when clause uses it`);
    }
  });

  it('match tree-item menu tokens with the contextValue tokens the tree sets', () => {
    const tokens = new Set(Object.values(NodeContext));
    for (const m of c.menus['view/item/context']!) {
      for (const t of (m.when ?? '').matchAll(/viewItem =~ \/\\b(\w+)\\b\//g)) {
        assert.ok(tokens.has(t[1] as never) || t[1] === 'waitingForResult', `menu ${m.command} matches viewItem token ${t[1]}, which the tree never sets`);
      }
    }
  });

  it('declare the walkthrough, its media and the activity bar icon', () => {
    assert.deepEqual(c.walkthroughs.map((w) => w.id), values(Walkthroughs));
    for (const step of c.walkthroughs.flatMap((w) => w.steps)) {
      const media = step.media.markdown ?? step.media.image;
      assert.ok(media && existsSync(join(root, media)), `walkthrough step ${step.id} has no media file (${media})`);
    }
    const icon = c.viewsContainers.activitybar[0]!.icon;
    assert.ok(existsSync(join(root, icon)), `${icon} is missing`);
    assert.match(readFileSync(join(root, icon), 'utf8'), /currentColor/);
  });

  it('activate only on its config file, its view, its file system and a results panel to restore (commands activate implicitly)', () => {
    assert.deepEqual([...pkg.activationEvents].sort(), [`onFileSystem:${NODE_SCHEME}`, `onView:${Views.experiments}`, `onWebviewPanel:${RESULTS_VIEW_TYPE}`, 'workspaceContains:autoresearch.config.yaml'].sort());
    assert.equal(pkg.main, './dist/extension.js');
    assert.deepEqual(pkg.extensionKind, ['workspace']);
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, false);
  });
});
