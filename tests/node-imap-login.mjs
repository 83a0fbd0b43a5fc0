// Copyright (c) 2026 dovecot-referral authors, see the included COPYING file

// Node's "imap" package (mscdex/node-imap) logging in with connect() the
// way an application does, for scripts/measure-clients: prints every
// 'alert' event (node-imap emits one for an untagged [ALERT]), the
// 'error' event it gives for a failed login (message, source, textCode,
// type) or 'ready' and that INBOX was opened, and 'close'/'end'. The
// conversation (its debug output) goes to standard error.
//
// usage: node node-imap-login.mjs NPM_PREFIX HOST PORT USER PASSWORD
// NPM_PREFIX is where "npm install --prefix" put imap.

import { createRequire } from 'node:module';
import { join } from 'node:path';

const [prefix, host, port, user, password] = process.argv.slice(2);
const require = createRequire(join(prefix, 'node_modules', 'x.js'));
const Imap = require('imap');
const version = require('imap/package.json').version;

const out = line => process.stdout.write(line + '\n');
const text = value => JSON.stringify(value === undefined ? null : value);

out('imap ' + version);
const imap = new Imap({
    user,
    password,
    host,
    port: Number(port),
    tls: false,
    autotls: 'never',
    connTimeout: 20000,
    authTimeout: 20000,
    debug: line => process.stderr.write(line + '\n')
});
const timer = setTimeout(() => { out('no answer after 30 s'); imap.destroy(); }, 30000);
imap.on('alert', message => out('alert event: ' + text(message)));
imap.on('error', err => {
    out('error event: message=' + text(err.message) +
        ' source=' + text(err.source) +
        ' textCode=' + text(err.textCode) +
        ' type=' + text(err.type));
});
imap.once('ready', () => {
    out('ready event (logged in)');
    imap.openBox('INBOX', true, (err, box) => {
        if (err)
            out('openBox error: ' + text(err.message));
        else
            out('INBOX open, ' + box.messages.total + ' messages');
        imap.end();
    });
});
imap.once('close', hadError => {
    out('close event' + (hadError ? ' (with an error)' : ''));
    clearTimeout(timer);
});
imap.connect();
