// signin.js — the sign-in page: user name and password to POST
// /api/v1/session, which sets the session cookie and gives the CSRF token.

import { post, setCsrf } from '../api.js';
import { h, fill } from '../dom.js';
import { field, errorPanel } from '../ui.js';

export async function render(main, params, app) {
  if (app.me) {
    app.navigate('#/accounts');
    return null;
  }
  const user = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const problem = h('div', { class: 'problem-slot' });
  const submit = h('button', { type: 'submit', class: 'primary wide' }, 'Sign in');
  const form = h('form', { class: 'panel narrow signin', novalidate: true },
    h('h1', null, 'Sign in to inboxsync'),
    h('p', { class: 'lede' }, 'Connect your Microsoft 365 mailbox and keep it synchronized.'),
    problem,
    field('User name', user),
    field('Password', pass),
    submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    fill(problem);
    if (!user.value || !pass.value) {
      fill(problem, errorPanel({ code: 'usage', message: 'Enter your user name and your password.', fix: '' }, {}, 'Both fields are needed'));
      (user.value ? pass : user).focus();
      return;
    }
    submit.disabled = true;
    try {
      const r = await post('/session', { username: user.value, password: pass.value }, { quiet401: true });
      setCsrf(r && r.csrf_token);
      await app.signedIn();
    } catch (err) {
      let title = 'Sign-in failed';
      if (err.status === 401) {
        err.message = 'The user name or the password is not right.';
        err.fix = err.fix || 'Check both and try again. Your administrator can reset your password.';
      } else if (err.status === 429) {
        title = 'Too many attempts';
        err.fix = err.fix || `Wait ${err.retryAfter || 60} seconds, then try again.`;
      }
      fill(problem, errorPanel(err, {}, title));
      pass.select();
      pass.focus();
    } finally {
      submit.disabled = false;
    }
  });
  fill(main, form);
  user.focus();
  return null;
}
