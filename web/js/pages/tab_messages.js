// tab_messages.js — the Messages tab: the selected folders, a folder's
// messages newest first (older pages on request), a message opened with
// its body fetched on open, Reply, Mark as read/unread, Move and Delete,
// and New message. A sent message shows in Sent Items at once (the local
// entry) and is replaced quietly when the server's copy arrives: the list
// re-reads itself from the change feed.

import { get, patch, del, post, seg } from '../api.js';
import { h, fill, shortWhen, when, person, people, num } from '../dom.js';
import { busyButton, errorPanel, announce, badge } from '../ui.js';
import { isAuthorized } from './common.js';
import { composeForm } from './compose.js';

const PAGE = 50;

export async function mount(el, ctx, query) {
  let folder = (query && query.get('folder')) || '';
  let messages = [];
  let nextCursor = null;
  let openId = (query && query.get('message')) || '';
  let openMsg = null;
  let mode = 'list';
  let highlight = '';
  const problem = h('div', { class: 'problem-slot' });
  const onError = (e) => fill(problem, errorPanel(e, ctx.actions));
  const foldersNav = h('nav', { class: 'mail-folders', 'aria-label': 'Synchronized folders' });
  const listEl = h('section', { class: 'mail-list', 'aria-label': 'Message list' });
  const readerEl = h('section', { class: 'mail-reader', 'aria-label': 'Reading pane', tabindex: '-1' });
  const wrap = h('div', { class: 'mail' }, foldersNav, listEl, readerEl);

  const selected = () => ctx.folders.filter((f) => f.selected);
  const byRole = (role) => selected().find((f) => f.role === role);
  const current = () => selected().find((f) => f.path === folder);

  function keepUrl() {
    const q = new URLSearchParams();
    if (folder) q.set('folder', folder);
    if (openId && mode === 'read') q.set('message', openId);
    const s = q.toString();
    history.replaceState(null, '', `#/accounts/${encodeURIComponent(ctx.id)}/messages${s ? `?${s}` : ''}`);
  }

  function renderFolders() {
    const list = selected().sort((a, b) => {
      const order = ['inbox', 'sent', 'drafts', 'archive', 'deleted', 'junk'];
      const ia = order.indexOf(a.role); const ib = order.indexOf(b.role);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.path.localeCompare(b.path);
    });
    fill(foldersNav,
      busyButton('New message', async () => openCompose(null), { class: 'primary wide', disabled: !isAuthorized(ctx.account) }),
      h('ul', null, list.map((f) => h('li', null, h('button', {
        type: 'button', class: 'folder-button', 'aria-current': f.path === folder ? 'true' : null, 'data-folder': f.path,
        onclick: () => chooseFolder(f.path),
      }, h('span', null, f.path), f.unread ? h('span', { class: 'count', 'aria-label': `${f.unread} unread` }, num(f.unread)) : null)))));
  }

  function item(m) {
    const unread = !m.is_read;
    const name = (a) => (a && (a.name || a.address)) || '';
    const who = current() && current().role === 'sent' ? `To: ${(m.to || []).map(name).join(', ')}` : name(m.from) || '(no sender)';
    return h('li', { class: `msg${unread ? ' unread' : ''}${m.id === openId && mode === 'read' ? ' open' : ''}${m.id === highlight ? ' fresh' : ''}`,
      'data-id': m.id, 'data-pending': m.pending ? 'true' : null },
    h('button', { type: 'button', class: 'msg-button', onclick: () => openMessage(m.id),
      'aria-current': m.id === openId && mode === 'read' ? 'true' : null },
    h('span', { class: 'msg-top' },
      h('span', { class: 'msg-from' }, unread ? h('span', { class: 'dot', 'aria-label': 'Unread' }) : null, who),
      h('span', { class: 'msg-date' }, m.pending ? badge('Sending…', 'active') : shortWhen(m.received_at || m.sent_at))),
    h('span', { class: 'msg-subject' }, m.subject || '(no subject)', m.has_attachments ? h('span', { class: 'clip', 'aria-label': 'Has attachments', title: 'Has attachments' }, ' 📎') : null),
    h('span', { class: 'msg-preview' }, m.preview || '')));
  }

  function renderList() {
    const f = current();
    if (!selected().length) {
      fill(listEl, h('div', { class: 'panel empty' }, h('h2', null, 'No folder is synchronized'),
        h('p', null, 'Fetch Folders and select the folders to synchronize in the Folders tab.'),
        h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: ctx.actions.openFolders }, 'Open the Folders tab'))));
      return;
    }
    const more = nextCursor ? busyButton('Load older messages', loadMore, { class: 'secondary wide', onError }) : null;
    // Keep the reader's place: scroll position and the focused message.
    const oldList = listEl.querySelector('.messages');
    const scroll = oldList ? oldList.scrollTop : 0;
    const focused = listEl.contains(document.activeElement) && document.activeElement.closest('.msg')
      ? document.activeElement.closest('.msg').getAttribute('data-id') : null;
    fill(listEl,
      h('div', { class: 'list-head' }, h('h2', null, folder),
        f ? h('span', { class: 'muted' }, `${num(f.total)} messages`, f.sync && f.sync.phase !== 'live' ? ' · still synchronizing' : '') : null),
      messages.length ? h('ul', { class: 'messages', 'aria-label': `Messages in ${folder}` }, messages.map(item))
        : h('p', { class: 'muted empty-list' }, f && f.sync && f.sync.phase !== 'live' ? 'Synchronizing… the newest mail appears here first.' : 'This folder is empty.'),
      more);
    const newList = listEl.querySelector('.messages');
    if (newList) newList.scrollTop = scroll;
    if (focused) {
      const again = listEl.querySelector(`.msg[data-id="${CSS.escape(focused)}"] .msg-button`);
      if (again) again.focus({ preventScroll: true });
    }
  }

  async function load(keepCount = false) {
    if (!folder) return;
    const limit = keepCount ? Math.min(Math.max(messages.length, PAGE), 1000) : PAGE;
    try {
      const r = await get(`/accounts/${seg(ctx.id)}/messages?folder=${encodeURIComponent(folder)}&limit=${limit}`);
      messages = (r && r.messages) || [];
      nextCursor = r && r.next_cursor;
      fill(problem);
    } catch (e) {
      messages = [];
      nextCursor = null;
      onError(e);
    }
    renderList();
    if (mode === 'read' && openId && !messages.some((m) => m.id === openId) && openMsg) {
      // The open message changed id (local Sent entry replaced) or left.
      const same = messages.find((m) => openMsg.internet_message_id && m.internet_message_id === openMsg.internet_message_id);
      if (same) {
        openId = same.id;
        openMsg = { ...openMsg, ...same };
        renderList();
        keepUrl();
      }
    }
  }

  async function loadMore() {
    const r = await get(`/accounts/${seg(ctx.id)}/messages?folder=${encodeURIComponent(folder)}&limit=${PAGE}&cursor=${encodeURIComponent(nextCursor)}`);
    messages = messages.concat((r && r.messages) || []);
    nextCursor = r && r.next_cursor;
    renderList();
  }

  async function chooseFolder(path) {
    folder = path;
    mode = 'list';
    openId = '';
    openMsg = null;
    wrap.classList.remove('reading');
    keepUrl();
    renderFolders();
    renderReaderEmpty();
    await load();
    const first = listEl.querySelector('.msg-button');
    (first || listEl.querySelector('h2')).focus?.();
  }

  function renderReaderEmpty() {
    fill(readerEl, h('div', { class: 'reader-empty muted' }, 'Select a message to read it.'));
  }

  function backButton() {
    return h('button', { type: 'button', class: 'secondary small back-to-list', onclick: () => {
      mode = 'list';
      wrap.classList.remove('reading');
      renderReaderEmpty();
      renderList();
      keepUrl();
      const b = listEl.querySelector('.msg-button');
      if (b) b.focus();
    } }, '← Back to list');
  }

  function bodyView(m) {
    const b = m.body;
    if (!b) return h('p', { class: 'muted' }, m.preview || 'This message has no text.');
    if (b.content_type === 'html') {
      // Sandboxed: no scripts, no forms, its own origin; the page's
      // Content-Security-Policy also keeps remote images out.
      const frame = h('iframe', { class: 'body-html', sandbox: 'allow-same-origin allow-popups allow-popups-to-escape-sandbox',
        title: `Message: ${m.subject || ''}`, referrerpolicy: 'no-referrer' });
      frame.srcdoc = `<base target="_blank">${b.content}`;
      frame.addEventListener('load', () => {
        try {
          const d = frame.contentDocument;
          if (d && d.documentElement) frame.height = String(Math.min(Math.max(d.documentElement.scrollHeight + 16, 120), 4000));
        } catch {
          /* other origin: keep the default height */
        }
      });
      return frame;
    }
    return h('div', { class: 'body-text' }, b.content);
  }

  function renderReader(m) {
    const targets = selected().filter((f) => f.path !== m.folder);
    const moveSel = h('select', { 'aria-label': 'Move to folder', name: 'move_to' },
      targets.map((f) => h('option', { value: f.path }, f.path)));
    const readBtn = busyButton(m.is_read ? 'Mark as unread' : 'Mark as read', async () => {
      await patch(`/accounts/${seg(ctx.id)}/messages/${seg(m.id)}`, { is_read: !m.is_read });
      m.is_read = !m.is_read;
      announce(m.is_read ? 'Marked as read.' : 'Marked as unread.');
      renderReader(m);
      await load(true);
    }, { class: 'secondary', onError });
    const moveBtn = busyButton('Move', async () => {
      const to = moveSel.value;
      if (!to) return;
      await patch(`/accounts/${seg(ctx.id)}/messages/${seg(m.id)}`, { folder: to });
      announce(`Moved to ${to}.`);
      closeReader();
      await load(true);
    }, { class: 'secondary', onError, disabled: !targets.length });
    const delBtn = busyButton('Delete', async () => {
      await del(`/accounts/${seg(ctx.id)}/messages/${seg(m.id)}`);
      announce('Moved to Deleted Items.');
      closeReader();
      await load(true);
    }, { class: 'danger-quiet', onError });
    const replyBtn = busyButton('Reply', async () => openCompose(m), { class: 'primary', disabled: !isAuthorized(ctx.account) });
    fill(readerEl,
      h('div', { class: 'reader-tools' }, backButton(), replyBtn, readBtn,
        h('span', { class: 'move' }, moveSel, moveBtn), delBtn),
      h('article', { class: 'message', 'data-id': m.id },
        h('h2', { class: 'message-subject' }, m.subject || '(no subject)'),
        m.pending ? h('p', null, badge('Sent — waiting for Outlook\'s copy', 'active')) : null,
        h('dl', { class: 'message-meta' },
          h('dt', null, 'From'), h('dd', null, person(m.from)),
          h('dt', null, 'To'), h('dd', null, people(m.to)),
          m.cc && m.cc.length ? [h('dt', null, 'Cc'), h('dd', null, people(m.cc))] : null,
          h('dt', null, 'Date'), h('dd', null, when(m.received_at || m.sent_at, '—')),
          h('dt', null, 'Folder'), h('dd', null, m.folder)),
        h('div', { class: 'message-body' }, bodyView(m))));
  }

  function closeReader() {
    mode = 'list';
    openId = '';
    openMsg = null;
    wrap.classList.remove('reading');
    renderReaderEmpty();
    keepUrl();
  }

  async function openMessage(id) {
    openId = id;
    mode = 'read';
    wrap.classList.add('reading');
    keepUrl();
    renderList();
    fill(readerEl, h('p', { class: 'loading' }, 'Opening…'));
    try {
      const m = await get(`/accounts/${seg(ctx.id)}/messages/${seg(id)}`);
      // Opening marks it read (at Microsoft too) before its buttons show,
      // so "Mark as unread" never changes under the pointer.
      if (!m.is_read && !m.pending) {
        try {
          await patch(`/accounts/${seg(ctx.id)}/messages/${seg(id)}`, { is_read: true });
          m.is_read = true;
          const li = messages.find((x) => x.id === id);
          if (li) li.is_read = true;
        } catch {
          /* stays unread; the reader still shows it */
        }
      }
      if (openId !== id) return;
      openMsg = m;
      renderReader(m);
      renderList();
      readerEl.focus();
    } catch (e) {
      fill(readerEl, backButton(), errorPanel(e, ctx.actions, 'The message could not be opened'));
    }
  }

  function openCompose(replyTo) {
    mode = 'compose';
    wrap.classList.add('reading');
    fill(readerEl, backButton(), composeForm(ctx, replyTo, {
      onCancel: () => {
        if (replyTo) {
          mode = 'read';
          renderReader(replyTo);
        } else closeReader();
      },
      onSent: async (r) => {
        try {
          await post(`/accounts/${seg(ctx.id)}/sync`, {});
        } catch {
          /* the scheduler sends it anyway */
        }
        const sent = byRole('sent');
        if (sent) {
          announce('Sent. It is in Sent Items now; Outlook\'s own copy replaces it on the next sync.');
          highlight = r.local_id || '';
          folder = sent.path;
          closeReader();
          renderFolders();
          await load();
        } else {
          closeReader();
          announce('Sent. Sent Items is not synchronized, so the message is not listed here.');
        }
      },
    }));
    const first = readerEl.querySelector('input:not([readonly]), textarea');
    if (first) first.focus();
  }

  fill(el, h('h2', { class: 'visually-hidden' }, 'Messages'), problem, wrap);
  if (!folder || !selected().some((f) => f.path === folder)) {
    const inbox = byRole('inbox') || selected()[0];
    folder = inbox ? inbox.path : '';
  }
  renderFolders();
  renderReaderEmpty();
  await load();
  if (openId) openMessage(openId);

  let timer = 0;
  const reload = () => {
    clearTimeout(timer);
    timer = setTimeout(() => load(true), 400);
  };
  return {
    onFolders() {
      if (!folder) {
        const inbox = byRole('inbox') || selected()[0];
        if (inbox) {
          folder = inbox.path;
          load();
        }
      }
      renderFolders();
      if (mode !== 'read' || !wrap.classList.contains('reading')) renderList();
    },
    onEvent(ev) {
      if (!ev.type.startsWith('message.') && !ev.type.startsWith('send.')) return;
      const d = ev.data || {};
      const m = d.message || {};
      if (ev.type.startsWith('send.') || m.folder === folder || d.from_folder === folder) reload();
      if (openMsg && m.id === openMsg.id && ev.type === 'message.updated' && mode === 'read') {
        openMsg = { ...openMsg, ...m, body: openMsg.body };
        renderReader(openMsg);
      }
    },
    destroy() {
      clearTimeout(timer);
    },
  };
}

