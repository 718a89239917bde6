// users.js — the administrator's users page: every login with its role,
// Add user, Reset password and Remove (with a confirmation).

import { get, post, patch, del, seg } from '../api.js';
import { h, fill } from '../dom.js';
import { field, errorPanel, busyButton, announce, confirmDialog, badge } from '../ui.js';

export async function render(main, params, app) {
  const problem = h('div', { class: 'problem-slot' });
  const onError = (e) => fill(problem, errorPanel(e, {}));
  const listEl = h('div');

  async function load() {
    try {
      const r = await get('/users');
      renderList((r && r.users) || []);
    } catch (e) {
      onError(e);
    }
  }

  function renderList(users) {
    fill(listEl, h('table', { class: 'users' },
      h('caption', { class: 'visually-hidden' }, 'Users'),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'User'), h('th', { scope: 'col' }, 'Role'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', null, users.map((u) => h('tr', { 'data-user': u.username },
        h('td', null, u.username, u.username === app.me.username ? h('span', { class: 'muted' }, ' (you)') : null),
        h('td', { 'data-label': 'Role' }, u.admin ? badge('Administrator', 'info') : badge('Mailbox owner', 'neutral')),
        h('td', { class: 'row-actions' },
          busyButton('Reset password', () => resetPassword(u), { class: 'secondary small', 'aria-label': `Reset password of ${u.username}`, onError }),
          u.username === app.me.username ? null : busyButton('Remove', () => removeUser(u), { class: 'danger-quiet small', 'aria-label': `Remove ${u.username}`, onError })))))));
  }

  async function resetPassword(u) {
    const d = await confirmDialog({
      title: `New password for ${u.username}`,
      body: [field('New password', h('input', { type: 'password', name: 'password', autocomplete: 'new-password', minlength: 8 }),
        'At least 8 characters. Tell it to the user in person or by phone.')],
      confirmLabel: 'Save new password',
    });
    if (!d.ok) return;
    if ((d.fields.password || '').length < 8) {
      onError({ code: 'usage', message: 'The password must have at least 8 characters.', fix: '' });
      return;
    }
    await patch(`/users/${seg(u.username)}`, { password: d.fields.password });
    fill(problem);
    announce(`The password of ${u.username} is changed.`);
  }

  async function removeUser(u) {
    const d = await confirmDialog({
      title: `Remove ${u.username}?`,
      body: [h('p', null, `${u.username} can no longer sign in. Their mailbox accounts and the mail synchronized for them are removed too; the mailboxes at Microsoft are not touched.`)],
      confirmLabel: 'Yes, remove user', danger: true,
    });
    if (!d.ok) return;
    await del(`/users/${seg(u.username)}`);
    fill(problem);
    announce(`${u.username} is removed.`);
    await load();
  }

  const username = h('input', { type: 'text', name: 'username', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true, minlength: 8 });
  const adminId = 'new-admin';
  const admin = h('input', { type: 'checkbox', id: adminId, name: 'admin' });
  const add = h('form', { class: 'panel', novalidate: true },
    h('h2', null, 'Add user'),
    h('div', { class: 'grid2' }, field('User name', username), field('Password', password, 'At least 8 characters.')),
    h('div', { class: 'checkbox' }, admin, h('label', { for: adminId }, 'Administrator (provider settings and users)')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Add user')));
  add.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!username.value.trim() || password.value.length < 8) {
      onError({ code: 'usage', message: !username.value.trim() ? 'Enter a user name.' : 'The password must have at least 8 characters.', fix: '' });
      (!username.value.trim() ? username : password).focus();
      return;
    }
    try {
      await post('/users', { username: username.value.trim(), password: password.value, admin: admin.checked });
      announce(`${username.value.trim()} can now sign in.`);
      username.value = '';
      password.value = '';
      admin.checked = false;
      fill(problem);
      await load();
    } catch (err) {
      onError(err);
    }
  });
  fill(main, h('h1', null, 'Users'),
    h('p', { class: 'lede' }, 'People who sign in here. Each one sees and connects only their own mailboxes.'),
    problem, listEl, add);
  await load();
  return null;
}
