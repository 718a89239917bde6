// tab_folders.js — the Folders tab ("Edit folders"): every folder of the
// mailbox with a checkbox to synchronize it and the role it is mapped to
// (Inbox and Sent Items come preselected), and per selected folder its
// progress — newest mail, then backfill of older mail, then live — with
// counts and the oldest date reached, updated from the change feed.

import { patch, post, seg } from '../api.js';
import { h, fill, num, day, when } from '../dom.js';
import { errorPanel, announce, badge } from '../ui.js';
import { isAuthorized } from './common.js';

export const ROLES = [
  ['inbox', 'Inbox'], ['sent', 'Sent Items'], ['drafts', 'Drafts'], ['archive', 'Archive'],
  ['deleted', 'Deleted Items'], ['junk', 'Junk Email'], ['custom', 'Custom folder'],
];

const PHASES = {
  pending: ['Waiting to start', 'neutral'],
  newest: ['Fetching newest mail', 'active'],
  backfill: ['Loading older mail (backfill)', 'active'],
  live: ['Live: up to date', 'ok'],
};

function depth(path) {
  return (path.match(/\//g) || []).length;
}

// A folder's progress: phase, bar, counts, oldest date reached.
export function progress(f) {
  const s = f.sync || {};
  if (!f.selected) return h('span', { class: 'muted' }, 'Not synchronized');
  const [label, tone] = PHASES[s.phase] || PHASES.pending;
  const total = Math.max(Number(f.total) || 0, Number(s.synced) || 0);
  const bar = h('progress', { max: String(total || 1), value: String(s.phase === 'live' ? (total || 1) : (s.synced || 0)),
    'aria-label': `Progress of ${f.path}` });
  return h('div', { class: 'progress', 'data-phase': s.phase || 'pending' },
    badge(label, tone), bar,
    h('span', { class: 'hint' }, `${num(s.synced)} of ${num(total)} messages`,
      s.oldest_at ? ` · oldest ${day(s.oldest_at)}` : '',
      s.last_sync_at ? ` · synced ${when(s.last_sync_at)}` : ''));
}

export async function mount(el, ctx) {
  const problem = h('div', { class: 'problem-slot' });
  const onError = (e) => fill(problem, errorPanel(e, ctx.actions));
  const table = h('div', { class: 'folders-slot' });

  async function change(f, body, what) {
    fill(problem);
    try {
      await patch(`/accounts/${seg(ctx.id)}/folders/${seg(f.id)}`, body);
      announce(what);
      try {
        await post(`/accounts/${seg(ctx.id)}/sync`, {});
      } catch {
        /* the scheduler gets to it anyway */
      }
    } catch (e) {
      onError(e);
    }
    await ctx.refreshFolders();
    await ctx.refreshAccount();
  }

  function rowFor(f) {
    const checkId = `sel-${f.id}`.replace(/[^A-Za-z0-9_-]/g, '_');
    const check = h('input', { type: 'checkbox', id: checkId, checked: !!f.selected });
    check.addEventListener('change', () => change(f, { selected: check.checked },
      check.checked ? `${f.path} is selected and starts synchronizing.` : `${f.path} is no longer synchronized (its mail stays here).`));
    const role = h('select', { 'aria-label': `Role of ${f.path}`, name: 'role' },
      h('option', { value: '' }, f.server_role ? 'As on the server' : '—'),
      ROLES.map(([v, label]) => h('option', { value: v, selected: f.role === v }, label)));
    role.addEventListener('change', () => change(f, role.value ? { selected: true, role: role.value } : { selected: true },
      `${f.path} is mapped to ${role.options[role.selectedIndex].text}.`));
    return h('tr', { 'data-folder': f.path, class: f.selected ? 'selected' : '' },
      h('td', { class: 'c-check' }, check),
      h('td', { class: 'c-name' },
        h('label', { for: checkId, class: `folder-name depth-${Math.min(depth(f.path), 4)}` }, f.path)),
      h('td', { class: 'c-role', 'data-label': 'Role' }, role),
      h('td', { class: 'c-count', 'data-label': 'Messages' }, num(f.total),
        f.unread ? h('span', { class: 'muted' }, ` (${num(f.unread)} unread)`) : null),
      h('td', { class: 'c-progress', 'data-label': 'Progress' }, progress(f)));
  }

  function render() {
    const a = ctx.account;
    const folders = [...ctx.folders].sort((x, y) => x.path.localeCompare(y.path));
    if (!folders.length) {
      fill(table, h('section', { class: 'panel empty' },
        h('h2', null, 'No folders yet'),
        h('p', null, isAuthorized(a)
          ? 'Click Fetch Folders at the top to read the mailbox\'s folders; then select the ones to synchronize here. Without fetching folders, no mail is synchronized.'
          : 'Authorize Outlook first (at the top); then Fetch Folders reads the mailbox\'s folders.')));
      return;
    }
    const selected = folders.filter((f) => f.selected).length;
    fill(table,
      h('div', { class: 'section-head' },
        h('p', null, selected ? `${selected} of ${folders.length} folders are synchronized. Sync only what you need: fewer folders sync faster.`
          : 'Select the folders to synchronize: Inbox and Sent Items at least.',
        ' New folders in the mailbox appear after Fetch Folders.')),
      h('table', { class: 'folders' },
        h('caption', { class: 'visually-hidden' }, 'Folders of the mailbox'),
        h('thead', null, h('tr', null,
          h('th', { scope: 'col' }, 'Sync'), h('th', { scope: 'col' }, 'Folder'), h('th', { scope: 'col' }, 'Role'),
          h('th', { scope: 'col' }, 'Messages'), h('th', { scope: 'col' }, 'Progress'))),
        h('tbody', null, folders.map(rowFor))));
  }

  fill(el, h('h2', { class: 'visually-hidden' }, 'Folders'), problem, table);
  render();
  return {
    onFolders() {
      // Keep keyboard focus where it was across a re-render.
      const active = document.activeElement;
      const keep = active && el.contains(active) ? { id: active.id, label: active.getAttribute('aria-label') } : null;
      render();
      if (keep) {
        const again = keep.id ? document.getElementById(keep.id)
          : el.querySelector(`[aria-label="${CSS.escape(keep.label || '')}"]`);
        if (again) again.focus();
      }
    },
    onAccount() {
      if (!ctx.folders.length) render();
    },
  };
}
