// lib/dovecot.js — a Dovecot on loopback standing in for Exchange
// Online's IMAP and SMTP submission (XOAUTH2 only, tokens checked by
// m365sim's introspection, as tests/scenarios/test_imap_probe.sh sets it
// up), started as a child on free ports and stopped by its pid.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { stopChild } = require('./servers');

const DOVECOT = ['/usr/sbin/dovecot', '/usr/bin/dovecot'].find((p) => fs.existsSync(p));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function portOpen(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

function whoami() {
  if (process.getuid() === 0) return { mail: 'dovecot', group: 'dovecot', login: 'dovenull' };
  const u = os.userInfo().username;
  const g = require('node:child_process').execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
  return { mail: u, group: g, login: u };
}

function config(dir, simUrl, ports, who) {
  return `protocols = imap submission
instance_name = inboxsync-browser-${process.pid}
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
info_log_path = ${dir}/dovecot.log
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = xoauth2
hostname = localhost
default_internal_user = ${who.mail}
default_internal_group = ${who.group}
default_login_user = ${who.login}
first_valid_uid = 1
mail_location = maildir:${dir}/mail/%u
namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
    auto = create
  }
  mailbox Sent {
    special_use = \\Sent
    auto = create
  }
  mailbox Trash {
    special_use = \\Trash
    auto = create
  }
  mailbox Archive {
    special_use = \\Archive
    auto = create
  }
}
passdb {
  driver = oauth2
  mechanisms = xoauth2
  args = ${dir}/oauth2.conf
}
userdb {
  driver = static
  args = uid=${who.mail} gid=${who.group} home=${dir}/mail/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    port = ${ports.imap}
  }
  inet_listener imaps {
    port = 0
  }
}
service submission-login {
  chroot =
  inet_listener submission {
    port = ${ports.smtp}
  }
}
service auth-worker {
  user = ${who.mail}
}
service anvil {
  chroot =
}
service ipc {
  chroot =
}
submission_relay_host = 127.0.0.1
submission_relay_port = ${ports.relay}
`;
}

// Start Dovecot for `sim`; resolves with {imap, smtp, dir, stop()}.
async function startDovecot(sim) {
  if (!DOVECOT) throw new Error('dovecot is not installed (scripts/install-deps.sh installs dovecot-imapd and dovecot-submissiond)');
  // Its mail processes run as an unprivileged user: a world-readable directory.
  const dir = fs.mkdtempSync('/tmp/inboxsync-dovecot-');
  fs.chmodSync(dir, 0o755);
  const who = whoami();
  fs.mkdirSync(path.join(dir, 'mail'));
  fs.mkdirSync(path.join(dir, 'state'));
  if (process.getuid() === 0) require('node:child_process').execFileSync('chown', [who.mail, path.join(dir, 'mail')]);
  // A token is accepted when the simulator's "active" equals `active`
  // ("never": every login refused, as with IMAP/SMTP AUTH turned off).
  const writeAuth = (active) => fs.writeFileSync(path.join(dir, 'oauth2.conf'),
    `introspection_url = ${sim.url}/_sim/introspect
introspection_mode = post
username_attribute = email
active_attribute = active
active_value = ${active}
`);
  writeAuth('true');
  for (let attempt = 0; attempt < 3; attempt++) {
    const ports = { imap: await freePort(), smtp: await freePort(), relay: await freePort() };
    fs.writeFileSync(path.join(dir, 'dovecot.conf'), config(dir, sim.url, ports, who));
    const out = fs.openSync(path.join(dir, 'stdout.log'), 'a');
    const child = spawn(DOVECOT, ['-F', '-c', path.join(dir, 'dovecot.conf')], { stdio: ['ignore', out, out] });
    for (let i = 0; i < 100 && child.exitCode === null; i++) {
      if (await portOpen(ports.imap) && await portOpen(ports.smtp)) {
        return {
          ...ports, dir, child,
          // Re-read the settings (SIGHUP) with logins accepted or not.
          acceptLogins(yes) {
            writeAuth(yes ? 'true' : 'never');
            process.kill(child.pid, 'SIGHUP');
          },
          async stop() {
            await stopChild(child);
            fs.rmSync(dir, { recursive: true, force: true });
          },
        };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await stopChild(child);
  }
  const log = ['stdout.log', 'dovecot.log'].map((f) => {
    try { return fs.readFileSync(path.join(dir, f), 'utf8'); } catch { return ''; }
  }).join('\n');
  fs.rmSync(dir, { recursive: true, force: true });
  throw new Error(`Dovecot did not start: ${log}`);
}

module.exports = { startDovecot };
